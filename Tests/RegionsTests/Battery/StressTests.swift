import Regions
import RegionsTestSupport
import Stress
import Testing

@Suite("Stress: threads, cross-thread frees, regions closing under them", .hookMode)
struct StressTests {
  /// 8 threads on this 2-core machine, 200,000 operations: mixed sizes, blocks passed between
  /// threads and out of inner regions that close while the blocks are freed elsewhere, threads
  /// recreated in rounds with blocks surviving; every block checked when freed. In a process
  /// of its own, so that the runtime's process-wide counts are the run's alone.
  @Test func twoHundredThousandOperationsLoseAndCorruptNothing() async {
    await #expect(processExitsWith: .success) {
      var options = StressRun.Options()
      options.rounds = 10
      options.operationsPerRound = 2_500
      let outcome = StressRun.run(options)
      precondition(options.operations >= 200_000)
      precondition(outcome.violations == 0, "violations: \(outcome.violations)")
      precondition(outcome.innerRegions > 1000)
      precondition(outcome.sharedAllocations > 100_000)
      precondition(outcome.sharedAllocations == outcome.sharedDeallocations, "counts differ")
      precondition(outcome.withheldSpansAtEnd == 0, "withheld: \(outcome.withheldSpansAtEnd)")
    }
  }
}
