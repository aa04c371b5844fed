import Layers
import RegionsTestSupport
import Testing

/// Composed stacks through the randomized conformance checker; where a Stats layer sees
/// exactly the checker's requests, its counters must equal the checker's own.
@Suite("Stacks pass the conformance checker")
struct StackConformanceTests {
  /// The card's stack.
  @Test func cardStack() {
    var stack = Stats { Chunk(4096) { Batch { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) { statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(outcome.resets >= 5)
    #expect(statsCounts(stack) == outcome.counts)
    #expect(stack.parent.liveChunks == 0)
    #expect(stack.parent.parent.liveBlocks == 0)
    #expect(stack.parent.parent.parent.liveBlocks == 0)
    #expect(stack.parent.parent.parent.parent.mappedBytes == 0)
  }

  /// An arena over the process allocator, with big chunks.
  @Test func statsChunkSystem() {
    var stack = Stats { Chunk(65536) { ProcessAllocator() } }
    let outcome = ConformanceChecker.run(&stack) { statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(statsCounts(stack) == outcome.counts)
    #expect(stack.parent.liveChunks == 0)
  }

  /// Checked and booked blocks from the process allocator; Check on top needs every block
  /// deallocated before a reset.
  @Test func checkBatchSystem() {
    var stack = Check { Batch { ProcessAllocator() } }
    let outcome = ConformanceChecker.run(&stack, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.liveBlocks == 0)
    #expect(stack.parent.liveBlocks == 0)
  }

  /// Batch over a bump allocator: reset unbooks every block, then Chunk frees its chunks.
  @Test func statsBatchChunkMmap() {
    var stack = Stats { Batch { Chunk(16384) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack) { statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(statsCounts(stack) == outcome.counts)
    #expect(stack.parent.liveBlocks == 0)
    #expect(stack.parent.parent.liveChunks == 0)
    #expect(stack.parent.parent.parent.mappedBytes == 0)
  }

  /// Check above and below a bump allocator: the lower Check verifies that Chunk gives
  /// every chunk back with the size and alignment it asked for.
  @Test func bypassStatsCheckChunkCheckSystem() {
    var stack = Bypass { Stats { Check { Chunk(8192) { Check { ProcessAllocator() } } } } }
    let outcome = ConformanceChecker.run(&stack, options: .reclaiming(false)) {
      statsCounts($0.parent)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(statsCounts(stack.parent) == outcome.counts)
    #expect(stack.parent.parent.parent.parent.liveBlocks == 0)
  }

  /// Two arenas nested: the outer carves its chunks out of the inner's chunks.
  @Test func statsChunkChunkMmap() {
    var stack = Stats { Chunk(4096) { Chunk(1 << 20) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack) { statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(statsCounts(stack) == outcome.counts)
    #expect(stack.parent.parent.liveChunks == 0)
    #expect(stack.parent.parent.parent.mappedBytes == 0)
  }
}
