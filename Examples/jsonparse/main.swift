// Parses JSON files with Foundation, each inside a region of its own, and prints what each
// parse allocated: allocations, bytes, peak live bytes, and blocks still live at the end.
//
//   swift run -c release jsonparse Examples/jsonparse/samples/*.json
//   swift run -c release jsonparse --mode malloc FILE...   # no region: the ground allocator
//   swift run -c release jsonparse --profile heap.json FILE...
//       # every parse in one Profile region: heap.json for valgrind's dh_view.html, heap.svg
//
// (`--mode malloc` prints only the value counts; Benchmarks/run times both modes.)
// Exit status: 0 when every file parsed, 1 when any failed, 2 on bad usage.
import Foundation
import Regions

var files = CommandLine.arguments.dropFirst()
var inRegions = true
var profilePath: String? = nil
if files.first == "--profile" {
  files.removeFirst()
  profilePath = files.popFirst()
  if profilePath == nil { files = [] }
}
if files.first == "--mode" {
  files.removeFirst()
  switch files.popFirst() {
  case "region": inRegions = true
  case "malloc": inRegions = false
  default: files = []
  }
}
guard !files.isEmpty else {
  _writeToStandardError("usage: jsonparse [--mode region|malloc | --profile PATH] FILE...\n")
  exit(2)
}

var failures = 0
if let profilePath {
  // One region for every parse, profiled: where the parser's memory goes, by call stack.
  var profiled = Profile(writingTo: profilePath, frames: 12) { SizeClasses { Mmap() } }
  failures = Region.enter(&profiled) { printValueCounts(files) }
  print(
    "profile: \(profiled.profilesWritten == 1 ? "written" : "not written") to \(profilePath) (open it in valgrind's dh_view.html) and \(profiled.flameGraphPath)"
  )
  exit(failures == 0 ? 0 : 1)
}

/// What one parse allocated: a bump allocator under a Stats layer.
typealias ParseStack = Stats<Chunk<Mmap>>

if !inRegions {
  print("file\tvalues")
  exit(printValueCounts(files) == 0 ? 0 : 1)
}
print("file\tvalues\tallocations\tbytes\tpeak bytes\tlive blocks")
for path in files {
  guard let data = FileManager.default.contents(atPath: path) else {
    _writeToStandardError("jsonparse: cannot read \(path)\n")
    failures += 1
    continue
  }
  var stack: ParseStack = Stats { Chunk(256 * 1024) { Mmap() } }
  let outcome: Result<Int, any Error> = Region.enter(&stack) {
    Result {
      let document = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
      return countValues(document)
    }
  }
  switch outcome {
  case .success(let values):
    let name = (path as NSString).lastPathComponent
    print(
      "\(name)\t\(values)\t\(stack.allocations)\t\(stack.bytesAllocated)\t\(stack.peakLiveBytes)\t\(stack.liveBlocks)"
    )
  case .failure(let error):
    _writeToStandardError("jsonparse: \(path): \(error)\n")
    failures += 1
  }
}
exit(failures == 0 ? 0 : 1)

/// Parses each file and prints its number of values; returns how many could not be read or
/// parsed.
func printValueCounts(_ files: ArraySlice<String>) -> Int {
  var failures = 0
  for path in files {
    guard let data = FileManager.default.contents(atPath: path),
      let document = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    else {
      _writeToStandardError("jsonparse: cannot read or parse \(path)\n")
      failures += 1
      continue
    }
    print("\((path as NSString).lastPathComponent)\t\(countValues(document))")
  }
  return failures
}

/// The number of JSON values in a parsed document (objects, arrays and scalars).
func countValues(_ value: Any) -> Int {
  if let object = value as? [String: Any] {
    return 1 + object.values.reduce(0) { $0 + countValues($1) }
  }
  if let array = value as? [Any] {
    return 1 + array.reduce(0) { $0 + countValues($1) }
  }
  return 1
}
