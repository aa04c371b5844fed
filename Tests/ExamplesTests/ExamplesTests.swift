import Foundation
import Regions
import RegionsTestSupport
import Testing

/// Runs an example program built next to this test bundle and returns its exit status,
/// standard output and standard error.
func runExample(_ name: String, _ arguments: [String] = []) throws -> (
  status: Int32, output: String, error: String
) {
  let bundle = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
  let executable = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent(
    name)
  guard FileManager.default.isExecutableFile(atPath: executable.path) else {
    throw ExampleMissing(path: executable.path)
  }
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  let output = Foundation.Pipe()
  let error = Foundation.Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: outputData, as: UTF8.self),
    String(decoding: errorData, as: UTF8.self)
  )
}

struct ExampleMissing: Error, CustomStringConvertible {
  var path: String
  var description: String { "example not built at \(path) (run `swift build` first)" }
}

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

@Suite("The example programs run and print what they should")
struct ExamplesTests {
  @Test func appendJoinsArraysUnderEscapeAndReportsTheStack() throws {
    let run = try runExample("append")
    #expect(run.status == 0)
    let lines = run.output.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasPrefix("outside region xs: []@") == true)
    #expect(
      lines.count > 1
        && lines[1].hasPrefix("outside region xs: [0, 1, 2, 3, 4, 0, 11, 22, 33, 44]@"))
    #expect(run.output.contains("Stats<Chunk<Batch<Check<Stats<Mmap>>>>>"))
    #expect(lines.contains { $0.hasPrefix("  live blocks") && $0.hasSuffix(" 0") })
    #expect(lines.contains { $0.hasPrefix("Check: 0 live blocks") })
    #expect(lines.contains { $0.hasPrefix("Mmap: 0 bytes mapped") })
  }

  static let binarytreeTen = """
    stretch tree of depth 11\t check: 4095
    1024\t trees of depth 4\t check: 31744
    256\t trees of depth 6\t check: 32512
    64\t trees of depth 8\t check: 32704
    16\t trees of depth 10\t check: 32752
    long lived tree of depth 10\t check: 2047

    """

  @Test(arguments: ["region", "malloc"])
  func binarytreePrintsTheBenchmarksGameOutput(mode: String) throws {
    let run = try runExample("binarytree", ["10", "--mode", mode])
    #expect(run.status == 0)
    #expect(run.output == Self.binarytreeTen)
    #expect(run.error.contains("elapsed"))
    #expect(run.error.contains("mode \(mode)"))
  }

  @Test func binarytreeRejectsBadArguments() throws {
    let run = try runExample("binarytree", ["--mode", "fast"])
    #expect(run.status == 2)
    #expect(run.error.contains("usage"))
  }

  @Test(.hookMode)
  func jsonparseCountsEachFileInItsOwnRegion() throws {
    let samples = packageRoot.appendingPathComponent("Examples/jsonparse/samples")
    let files = ["config.json", "matrix.json", "people.json"].map {
      samples.appendingPathComponent($0).path
    }
    let run = try runExample("jsonparse", files)
    #expect(run.status == 0)
    let rows = run.output.split(separator: "\n").dropFirst().map {
      $0.split(separator: "\t").map(String.init)
    }
    #expect(rows.map { $0[0] } == ["config.json", "matrix.json", "people.json"])
    #expect(rows.map { $0[1] } == ["18", "1643", "3903"])
    for row in rows {
      let allocations = Int(row[2]) ?? 0
      let bytes = Int(row[3]) ?? 0
      let peak = Int(row[4]) ?? 0
      #expect(allocations > 10)
      #expect(peak > 0 && peak <= bytes)
    }
  }

  @Test func jsonparseFailsOnAMissingFileAndOnNoArguments() throws {
    let missing = try runExample("jsonparse", ["/nonexistent.json"])
    #expect(missing.status == 1)
    #expect(missing.error.contains("cannot read"))
    let none = try runExample("jsonparse")
    #expect(none.status == 2)
  }
}
