import Regions
import RegionsTestSupport
import Stress
import Testing

@Suite("Stress: threads, cross-thread frees, regions closing under them", .hookMode)
struct StressTests {
  /// 8 threads on this 2-core machine, 200,000 operations: mixed sizes, blocks passed between
  /// threads and out of inner regions that close while the blocks are freed elsewhere, threads
  /// recreated in rounds with blocks surviving; every block checked when freed.
  @Test func twoHundredThousandOperationsLoseAndCorruptNothing() {
    var options = StressRun.Options()
    options.rounds = 10
    options.operationsPerRound = 2_500
    let outcome = StressRun.run(options)
    #expect(options.operations >= 200_000)
    #expect(outcome.violations == 0)
    #expect(outcome.innerRegions > 1000)
    #expect(outcome.sharedAllocations > 100_000)
    #expect(outcome.sharedAllocations == outcome.sharedDeallocations)
    #expect(outcome.withheldSpansAtEnd == 0)
  }
}
