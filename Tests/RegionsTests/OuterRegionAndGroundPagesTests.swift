import Regions
import RegionsTestSupport
import Testing

@Suite("OuterRegionPages and GroundPages: sources from outside the region's own stack", .serialized)
struct PipeAndGroundTests {
  @Test(arguments: [false, true])
  func conformanceInExplicitMode(ground: Bool) {
    var options = ConformanceChecker.Options()
    options.maxByteCount = 1 << 18
    let counts: (Stats<Chunk<OuterRegionPages>>) -> ConformanceChecker.Counts = {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    if ground {
      var stack = Stats { Chunk(65536) { GroundPages() } }
      let outcome = ConformanceChecker.run(&stack, options: options) {
        .init(
          allocations: $0.allocations, deallocations: $0.deallocations,
          bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
      }
      #expect(outcome.violations == [])
    } else {
      var stack = Stats { Chunk(65536) { OuterRegionPages() } }
      let outcome = ConformanceChecker.run(&stack, options: options, counters: counts)
      #expect(outcome.violations == [])
    }
  }

  @Test(.hookMode) func outerRegionPagesCarvesTheInnerRegionOutOfTheOuterOne() throws {
    _ = (0..<10).map { Sample($0) }
    var outer = Stats { Chunk(1 << 20) { Mmap() } }
    var inner = Stats { Chunk(65536) { OuterRegionPages() } }
    let intact = Region.enter(&outer) { () -> Bool in
      Region.enter(&inner) {
        let samples = (0..<2000).map { Sample($0) }
        return samples.allSatisfy(\.isIntact)
      }
    }
    #expect(intact)
    #expect(inner.allocations >= 2001)
    // The outer region served the inner one's chunks: a few 64 KiB blocks, all given back.
    #expect(outer.allocations >= 2)
    #expect(outer.bytesAllocated >= 2 * 65536)
    #expect(outer.liveBlocks == 0, "outer: \(outer.report)\ninner: \(inner.report)")
  }

  @Test(.hookMode) func objectsEscapingAnInnerRegionKeepTheOuterBlockLive() throws {
    _ = (0..<10).map { Sample($0) }
    var outerStack = Chunk(1 << 20) { Mmap() }
    var inner = Chunk(65536) { OuterRegionPages() }
    var survivors: [Sample] = []
    var checks: (Int, Int, Int) = (0, 0, 0)
    Region.enter(&outerStack) {
      let outerRegion = Region.current!
      let baseline = outerRegion.liveBlocks
      let (kept, innerRegion) = Region.enter(&inner) {
        ((0..<100).map { Sample($0) }, Region.current!)
      }
      // The inner region closed with live objects: its piped chunk is withheld, and the
      // outer region still counts the block it gave the pipe.
      checks.0 = innerRegion.withheldSpans
      checks.1 = outerRegion.liveBlocks - baseline
      Region.escape { survivors = kept.filter(\.isIntact) }
      _ = consume kept
      checks.2 = outerRegion.liveBlocks - baseline
    }
    #expect(checks.0 == 1)
    #expect(checks.1 >= 1)
    #expect(survivors.count == 100)
    _ = checks.2
  }

  @Test(.hookMode) func groundServesARegionAndItsBlocksTraceBack() throws {
    var stats = Stats { Chunk(65536) { GroundPages() } }
    let total = Region.enter(&stats) { (0..<3000).map { Sample($0) }.reduce(0) { $0 + $1.id } }
    #expect(total == (0..<3000).reduce(0, +))
    #expect(stats.allocations >= 3001)
    #expect(stats.liveBlocks == 0)
  }

  @Test(.hookMode) func outerRegionPagesWithNoRegionOutUsesTheGround() throws {
    var stats = Stats { Chunk(65536) { OuterRegionPages() } }
    let count = Region.enter(&stats) { (0..<500).map { Sample($0) }.count }
    #expect(count == 500)
    #expect(stats.liveBlocks == 0)
  }
}
