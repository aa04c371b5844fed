import Foundation
import Regions
import RegionsTestSupport
import Testing

/// The `result KEY VALUE` lines an allocbench run printed.
func allocbenchResults(_ output: String) -> [String: String] {
  var results: [String: String] = [:]
  for line in output.split(separator: "\n") {
    let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
    if parts.count == 3 && parts[0] == "result" { results[parts[1]] = parts[2] }
  }
  return results
}

@Suite("The benchmark programs run and check what they measure")
struct AllocbenchTests {
  @Test(.hookMode)
  func probeFindsTheCLibraryBehindTheHook() throws {
    let run = try runExample("allocbench", ["probe"])
    #expect(run.status == 0)
    let results = allocbenchResults(run.output)
    #expect(results["probe_ground"] == "glibc")
    #expect(results["probe_next_malloc"]?.contains("libc.so") == true)
    #expect(results["probe_malloc_defined_in"]?.hasSuffix("allocbench") == true)
    #expect(results["probe_served_outside_regions"] == "1000/1000")
    #expect(results["probe_served_inside_a_region"] == "0/1000")
  }

  /// With the long-lived cells in a region of their own, the memory of the dropped short-lived
  /// region goes back to the system; with one heap it stays pinned by the scattered survivors.
  @Test(.hookMode)
  func lifetimeSegregationGivesTheFragmentedMemoryBack() throws {
    let plain = allocbenchResults(try runExample("allocbench", ["fragment", "--quick"]).output)
    let segregated = allocbenchResults(
      try runExample("allocbench", ["fragment", "--quick", "--mode", "region", "--stack", "chunk"])
        .output)
    let plainAfter = try #require(plain["rss_after_bytes"].flatMap { Int($0) })
    let segregatedAfter = try #require(segregated["rss_after_bytes"].flatMap { Int($0) })
    #expect(plain["live_after_bytes"] == segregated["live_after_bytes"])
    #expect(segregatedAfter * 2 < plainAfter)
  }

  @Test(arguments: [
    ["small"], ["small", "--mode", "region", "--stack", "chunk"],
    ["mixed", "--mode", "region", "--stack", "sizeclasses"],
    ["realloc", "--mode", "region", "--stack", "chunk"],
    ["workers", "--workers", "2", "--mode", "region", "--stack", "sizeclasses"],
  ])
  func workloadsRunAndReport(arguments: [String]) throws {
    let run = try runExample("allocbench", arguments + ["--quick"])
    #expect(run.status == 0)
    let results = allocbenchResults(run.output)
    #expect(results["workload"] == arguments[0])
    #expect(results["checksum"].flatMap { UInt($0) } != nil)
  }

  /// Two child tasks entering the first regions of the process at the same moment, each its
  /// own. The runtime's start was once an unsynchronized flag: ThreadSanitizer reported the
  /// race in about a third of such runs (a report makes the program exit with status 66), so
  /// under TSan the test runs it eight times.
  @Test func regionsPerWorkerStartTheRuntimeOnce() throws {
    for _ in 0..<(_threadSanitizerIsActive ? 8 : 1) {
      let run = try runExample(
        "allocbench",
        [
          "workers", "--workers", "2", "--mode", "region", "--stack", "sizeclasses",
          "--region-per-worker", "--quick",
        ])
      #expect(run.status == 0, "\(run.error)")
      #expect(allocbenchResults(run.output)["checksum"] == "2621360")
    }
  }

  @Test func jsonparseWithoutRegionsCountsTheSameValues() throws {
    let samples = packageRoot.appendingPathComponent("Examples/jsonparse/samples")
    let files = ["config.json", "matrix.json", "people.json"].map {
      samples.appendingPathComponent($0).path
    }
    let run = try runExample("jsonparse", ["--mode", "malloc"] + files)
    #expect(run.status == 0)
    let rows = run.output.split(separator: "\n").dropFirst().map {
      $0.split(separator: "\t").map(String.init)
    }
    #expect(rows.map { $0[1] } == ["18", "1643", "3903"])
  }
}
