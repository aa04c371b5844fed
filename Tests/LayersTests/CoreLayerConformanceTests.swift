import Layers
import RegionsTestSupport
import Testing

/// Every core layer on its own, over a source where it needs one, through the randomized
/// conformance checker (200,000 operations, sizes 1 B … 1 MiB, alignments 1 … 4096).
@Suite("Core layers pass the conformance checker")
struct CoreLayerConformanceTests {
  @Test func mmap() {
    var layer = Mmap()
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(layer.mappedBytes == 0)
  }

  @Test func system() {
    var layer = ProcessAllocator()
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }

  @Test func chunkOverMmap() {
    var layer = Chunk(4096) { Mmap() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(true))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(layer.liveChunks == 0)
    #expect(layer.parent.mappedBytes == 0)
  }

  @Test func batchOverMmap() {
    var layer = Batch { Mmap() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(true))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(layer.liveBlocks == 0)
    #expect(layer.parent.mappedBytes == 0)
  }

  @Test func statsOverSystem() {
    var layer = Stats { ProcessAllocator() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false)) { statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(statsCounts(layer) == outcome.counts)
    #expect(layer.liveBlocks == 0)
  }

  @Test func checkOverMmap() {
    var layer = Check { Mmap() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(layer.liveBlocks == 0)
    #expect(layer.leakedBlocks == 0)
    #expect(layer.parent.mappedBytes == 0)
  }

  @Test func bypassOverSystem() {
    var layer = Bypass { ProcessAllocator() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }
}
