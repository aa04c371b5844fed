// tracereplay: re-runs a trace written by the Trace layer against several stacks and prints
// what each did, so that stacks can be compared on a program's own traffic.
//
//   swift run -c release tracereplay [--stack NAME]... FILE
//
// Without --stack, every stack below runs. Record a trace with
// `Trace(to: "app.trace") { <your stack> }` (or around a region's stack).
import Glibc
import Regions

/// Runs the trace against one stack, with a Stats above it (what the program asked; the
/// stack has Stats above its sources: what it took from the system), and prints a row.
func replay<Stack: Layer>(
  _ name: String, _ records: [TraceRecord], _ stack: Stack, verbose: Bool
) {
  var counted = Stats { stack }
  let start = ContinuousClock.now
  let outcome = TraceReplay.run(records, on: &counted)
  let elapsed = ContinuousClock.now - start
  let nanoseconds =
    Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
  let operations = max(1, outcome.allocations + outcome.deallocations + outcome.freedByReplay)
  print(
    pad(name, 12), pad(String(outcome.allocations), 12, right: true),
    pad(String(outcome.failedAllocations), 8, right: true),
    pad(String(outcome.peakLiveBytes), 14, right: true),
    pad(sourcePeak(counted.report), 14, right: true),
    pad(String(Int(nanoseconds / Double(operations))), 8, right: true))
  if verbose {
    print(counted.report.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
  }
}

/// The bytes the stack took from its sources: the sum of the peaks of the Stats layers
/// inside it (the report's first line is the outer Stats).
func sourcePeak(_ report: String) -> String {
  var total = 0
  for line in report.split(separator: "\n").dropFirst() where line.contains("Stats:") {
    let words = line.split(separator: " ")
    if let index = words.firstIndex(of: "peak"), index + 1 < words.endIndex {
      total += Int(words[index + 1]) ?? 0
    }
  }
  return String(total)
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
  let fill = String(repeating: " ", count: max(0, width - text.count))
  return right ? fill + text : text + fill
}

/// The stacks to compare, by name. Each ends in a Stats over its source.
let stackNames = [
  "system", "chunk", "bysize", "bonwick", "buddy", "freelist", "sizeclasses", "perthread", "guard",
]

func replay(stack name: String, _ records: [TraceRecord], verbose: Bool) {
  switch name {
  case "system":
    replay(name, records, Stats { ProcessAllocator() }, verbose: verbose)
  case "chunk":
    replay(name, records, Chunk(65536) { Stats { Mmap() } }, verbose: verbose)
  case "bysize":
    replay(
      name, records,
      BySize(threshold: 4096) {
        Chunk(65536) { Stats { Mmap() } }
      } above: {
        Stats { Mmap() }
      },
      verbose: verbose)
  case "bonwick":
    replay(name, records, Bonwick { Stats { Mmap() } }, verbose: verbose)
  case "buddy":
    replay(
      name, records, Buddy(baseSize: 16, blockExponent: 16) { Stats { Mmap() } }, verbose: verbose)
  case "freelist":
    replay(name, records, FreeList { Stats { Mmap() } }, verbose: verbose)
  case "sizeclasses":
    replay(name, records, SizeClasses { Stats { Mmap() } }, verbose: verbose)
  case "perthread":
    replay(name, records, PerThread(slots: 4) { Stats { ProcessAllocator() } }, verbose: verbose)
  case "guard":
    replay(name, records, Guard { Stats { ProcessAllocator() } }, verbose: verbose)
  default:
    fatalError("no stack named \(name)")
  }
}

func readFile(_ path: String) -> String? {
  guard let file = fopen(path, "r") else { return nil }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let count = fread(&buffer, 1, buffer.count, file)
    if count == 0 { break }
    bytes.append(contentsOf: buffer[0..<count])
  }
  return String(decoding: bytes, as: UTF8.self)
}

func usage() -> Never {
  print("usage: tracereplay [--verbose] [--stack NAME]... FILE")
  print("stacks: " + stackNames.joined(separator: ", "))
  exit(2)
}

var chosen: [String] = []
var path: String? = nil
var verbose = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--stack": chosen.append(arguments.popFirst() ?? "")
  case "--verbose": verbose = true
  case "--help", "-h": usage()
  default: path = argument
  }
}
guard let path else { usage() }
for name in chosen where !stackNames.contains(name) {
  print("tracereplay: no stack named \(name)")
  usage()
}
guard let text = readFile(path) else {
  print("tracereplay: cannot read \(path)")
  exit(1)
}
let records: [TraceRecord]
do {
  records = try TraceRecord.parse(text)
} catch {
  print("tracereplay: \(path): \(error)")
  exit(1)
}
print("\(records.count) records from \(path)")
print(
  pad("stack", 12), pad("allocations", 12, right: true), pad("failed", 8, right: true),
  pad("peak live B", 14, right: true), pad("source peak B", 14, right: true),
  pad("ns/op", 8, right: true))
for name in stackNames where chosen.isEmpty || chosen.contains(name) {
  replay(stack: name, records, verbose: verbose)
}
