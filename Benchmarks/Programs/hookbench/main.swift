// hookbench: nanoseconds per malloc+free pair through the Regions hook, outside and inside a
// region, against the C library's malloc+free measured in the same run.
//
//   swift run -c release hookbench           # 9 rounds, ~40 ms per measurement
//   swift run -c release hookbench --quick   # 3 rounds, ~5 ms per measurement
//   swift run -c release hookbench --tsv     # the rows as tab-separated values (Benchmarks/run)
//
// Every row times the same loop (`malloc(n)`, fold the pointer into a checksum, `free`); only
// where it runs changes:
// - glibc: the C library's malloc and free, called through the addresses
//   `dlsym(RTLD_NEXT, …)` returns (this executable interposes malloc);
// - outside every region: no region open, no span anywhere (the hook's two relaxed loads);
// - escape: in `Region.escape {}` inside an open region, so the hook consults the runtime,
//   which sends the call to the ground, and free looks the address up in the page map;
// - sync region: inside `Region.enter(&stack) {}` (the per-thread binding slot);
// - perthread: the same over `PerThread { Chunk(1 << 20) { Mmap() } }`, which a region shared
//   by several threads would use (a thread-safe stack, called without the region's lock);
// - async region: inside `await Region.enter(&stack) {}` (the task-local lookup);
// and, for reference, the region's stack called directly (explicit mode). The stack is
// `Chunk(1 << 20) { Mmap() }`; a region block is the stack's block of n + 16 bytes (the
// header). Timing happens inside the scopes: entering and leaving are not measured.
import BenchSupport
import Regions

#if canImport(Glibc)
  import Glibc
#endif

typealias Stack = Chunk<Mmap>
func makeStack() -> Stack { Chunk(1 << 20) { Mmap() } }

guard mallocIsInterposed, Region.hookIsActive else {
  print("hookbench: malloc is not interposed in this build (ASan / TSan?); nothing to measure")
  exit(1)
}

// MARK: - Timed loops

/// Pairs through the stack itself (explicit mode), with the hook's request: n + 16 bytes.
@inline(never)
func stackPairs(_ stack: inout Stack, byteCount: Int, iterations: Int) -> UInt {
  var checksum: UInt = 0
  for _ in 0..<iterations {
    let block = stack.allocate(byteCount: byteCount + 16, alignment: 16)!
    checksum = checksum &* 31 &+ UInt(bitPattern: block)
    stack.deallocate(block, byteCount: byteCount + 16, alignment: 16)
  }
  return checksum
}

// MARK: - Configurations

enum Place: String, CaseIterable {
  case glibc, outside, escape, sync, touched, shared, perthread, async, explicit

  var title: String {
    switch self {
    case .glibc: "glibc malloc/free (dlsym RTLD_NEXT)"
    case .outside: "hook, outside every region"
    case .escape: "hook, Region.escape inside an open region"
    case .sync: "hook, sync region (Region.enter {})"
    case .touched: "hook, sync region, another thread freed a block"
    case .shared: "hook, sync region, another thread allocated (bias moved, came back)"
    case .perthread: "hook, sync region over PerThread { Chunk(1 << 20) { Mmap() } }"
    case .async: "hook, async region (await Region.enter {})"
    case .explicit: "Chunk(1 << 20) { Mmap() } direct, n + 16 B"
    }
  }
}

/// Where a block's address goes so that the optimizer keeps its malloc.
nonisolated(unsafe) var sink: UInt = 0

/// Runs `body` on a new thread and waits for it.
func onAnotherThread(_ body: @escaping () -> Void) {
  final class Work {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
  }
  var thread = pthread_t()
  let work = Unmanaged.passRetained(Work(body)).toOpaque()
  let created = pthread_create(
    &thread, nil,
    { work in
      Unmanaged<Work>.fromOpaque(work!).takeRetainedValue().body()
      return nil
    }, work)
  precondition(created == 0, "hookbench: pthread_create failed")
  pthread_join(thread, nil)
}

struct Configuration {
  var place: Place
  var byteCount: Int
  var operations = 0
  var samples: [Double] = []
}

var stack = makeStack()
/// The thread-safe stack a region shared by several threads would use: called without the
/// region's lock.
var perThreadStack = PerThread(slots: 4) { Chunk(1 << 20) { Mmap() } }

/// Runs one measurement of `operations` pairs; returns the nanoseconds and a checksum.
@MainActor
func run(_ place: Place, byteCount: Int, operations: Int) async -> (UInt64, UInt) {
  switch place {
  case .glibc:
    return timed { libcPairs(byteCount: byteCount, iterations: operations) }
  case .outside:
    return timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
  case .escape:
    return Region.enter(&stack) {
      Region.escape { timed { processMallocPairs(byteCount: byteCount, iterations: operations) } }
    }
  case .sync:
    return Region.enter(&stack) {
      timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
    }
  case .touched:
    return Region.enter(&stack) {
      let revocations = Region._lockRevocations
      let block = malloc(byteCount)!
      // The thread's own records (glibc's, Swift's) must not be left in the region.
      Region.escape { onAnotherThread { free(block) } }
      precondition(
        Region._lockRevocations == revocations, "hookbench: a remote free revoked the bias")
      return timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
    }
  case .shared:
    return Region.enter(&stack) {
      let revocations = Region._lockRevocations
      let region = Region.current!
      Region.escape {
        onAnotherThread {
          region.join {
            let block = malloc(byteCount)
            sink = UInt(bitPattern: block)  // observable: the pair is not optimized away
            free(block)
          }
        }
      }
      precondition(Region._lockRevocations > revocations, "hookbench: the bias survived")
      return timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
    }
  case .perthread:
    return Region.enter(&perThreadStack) {
      timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
    }
  case .async:
    // No suspension before the loop: the body runs on the thread that entered, so the lock
    // stays biased and the row isolates the task-local lookup (the shared row shows what a
    // hop to another thread adds).
    return await Region.enter(makeStack()) { () async -> (UInt64, UInt) in
      timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
    }
  case .explicit:
    defer { stack.reset() }
    return timed { stackPairs(&stack, byteCount: byteCount, iterations: operations) }
  }
}

/// `--profile PLACE [PAIRS]`: runs PAIRS (default 200,000) pairs of 64 bytes in one place, once,
/// without calibration or rounds: the loop to count under callgrind
/// (`--toggle-collect='*processMallocPairs*'`, or `'*libcPairs*'` for glibc).
if let index = CommandLine.arguments.firstIndex(of: "--profile") {
  let arguments = CommandLine.arguments
  guard index + 1 < arguments.count, let place = Place(rawValue: arguments[index + 1]) else {
    print(
      "hookbench: --profile needs a place: "
        + Place.allCases.map(\.rawValue).joined(separator: ", "))
    exit(2)
  }
  let pairs = index + 2 < arguments.count ? Int(arguments[index + 2]) ?? 200_000 : 200_000
  let (elapsed, sum) = await run(place, byteCount: 64, operations: pairs)
  print(
    "\(place.rawValue): \(pairs) pairs, \(Double(elapsed) / Double(pairs)) ns per pair (checksum \(sum % 10))"
  )
  exit(0)
}

let quick = CommandLine.arguments.contains("--quick")
let tabSeparated = CommandLine.arguments.contains("--tsv")
let rounds = quick ? 3 : 9
let targetNanoseconds: UInt64 = quick ? 5_000_000 : 40_000_000
let sizes = [16, 64, 256]
/// `--only sync,async` measures those places only (and glibc), e.g. under `perf record`.
let only: [Place]? = CommandLine.arguments.firstIndex(of: "--only").map { index in
  let names = index + 1 < CommandLine.arguments.count ? CommandLine.arguments[index + 1] : ""
  return names.split(separator: ",").map { name in
    guard let place = Place(rawValue: String(name)) else {
      print(
        "hookbench: unknown place \(name); places: "
          + Place.allCases.map(\.rawValue).joined(separator: ", "))
      exit(2)
    }
    return place
  }
}

var configurations: [Configuration] = []
for byteCount in sizes {
  for place in Place.allCases where place == .glibc || only?.contains(place) ?? true {
    configurations.append(Configuration(place: place, byteCount: byteCount))
  }
}

var checksum: UInt = 0

// Calibrate (and warm up): grow the count until one measurement takes about the target.
for index in configurations.indices {
  var operations = 1024
  while true {
    let (elapsed, sum) = await run(
      configurations[index].place, byteCount: configurations[index].byteCount,
      operations: operations)
    checksum &+= sum
    if elapsed >= targetNanoseconds / 4 || operations >= 1 << 30 {
      let scale = Double(targetNanoseconds) / Double(Swift.max(elapsed, 1))
      configurations[index].operations = Swift.max(1024, Int(Double(operations) * scale))
      break
    }
    operations *= 4
  }
}

for round in 0..<rounds {
  // Rotate the order so no configuration always runs first or after the same neighbour.
  let count = configurations.count
  for step in 0..<count {
    let index = (step + round * 5) % count
    let configuration = configurations[index]
    let (elapsed, sum) = await run(
      configuration.place, byteCount: configuration.byteCount,
      operations: configuration.operations)
    checksum &+= sum
    configurations[index].samples.append(Double(elapsed) / Double(configuration.operations))
  }
}

// After every region closed, nothing is left behind: the outside rows really ran with no span.
let memory = Region.memory
guard memory.spans == 0 else {
  print("hookbench: \(memory.spans) region spans remain after the scopes; rows are not clean")
  exit(1)
}

// MARK: - Report

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// `value` with `decimals` decimals; with `signed`, a leading + or −.
func formatted(_ value: Double, _ decimals: Int, signed: Bool = false) -> String {
  let scaled = Int((abs(value) * pow(10, Double(decimals))).rounded())
  var text = String(scaled)
  if decimals > 0 {
    while text.count <= decimals { text = "0" + text }
    text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
  }
  if value < 0 && scaled != 0 { return "−" + text }
  return signed ? "+" + text : text
}

func padded(_ text: String, _ width: Int, left: Bool) -> String {
  let padding = String(repeating: " ", count: Swift.max(0, width - text.count))
  return left ? text + padding : padding + text
}

let columns: [(width: Int, left: Bool)] = [
  (44, true), (5, false), (15, false), (9, false), (8, false),
]

func row(_ cells: [String]) -> String {
  let texts = zip(cells, columns).map { padded($0, $1.width, left: $1.left) }
  return "| " + texts.joined(separator: " | ") + " |"
}

if tabSeparated {
  print("place\ttitle\tsize\tmedian_ns\tfastest_ns\tminus_glibc_ns\tratio_to_glibc")
  for configuration in configurations {
    let baseline = median(
      configurations.first { $0.place == .glibc && $0.byteCount == configuration.byteCount }!
        .samples)
    let value = median(configuration.samples)
    let fastest = configuration.samples.min() ?? 0
    print(
      "\(configuration.place.rawValue)\t\(configuration.place.title)\t\(configuration.byteCount)"
        + "\t\(value)\t\(fastest)\t\(value - baseline)\t\(value / baseline)")
  }
  exit(0)
}

print("hookbench: \(rounds) rounds, median ns per malloc+free pair (fastest round in brackets)")
print("")
print(row(["where", "size", "ns", "− glibc", "÷ glibc"]))
print(
  "|"
    + columns.map { column in
      let dashes = String(repeating: "-", count: column.width + 1)
      return column.left ? ":" + dashes : dashes + ":"
    }.joined(separator: "|") + "|")
for byteCount in sizes {
  let rows = configurations.filter { $0.byteCount == byteCount }
  let baseline = median(rows.first { $0.place == .glibc }!.samples)
  for configuration in rows {
    let value = median(configuration.samples)
    let fastest = configuration.samples.min() ?? 0
    let ns = "\(formatted(value, 2)) [\(formatted(fastest, 2))]"
    let added = configuration.place == .glibc ? "" : formatted(value - baseline, 2, signed: true)
    let ratio = formatted(value / baseline, 3)
    print(row([configuration.place.title, String(byteCount), ns, added, ratio]))
  }
}
print("")
print("− glibc: ns added to the C library's pair; region rows include the stack's own pair.")
print("(checksum \(String(checksum, radix: 16)))")
