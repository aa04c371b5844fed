import Layers
import RegionsTestSupport
import Testing

@Suite("Fallback and BySize")
struct FallbackTests {
  static func counts<L: Layer>(_ stats: Stats<L>) -> ConformanceChecker.Counts {
    .init(
      allocations: stats.allocations, deallocations: stats.deallocations,
      bytesAllocated: stats.bytesAllocated, bytesDeallocated: stats.bytesDeallocated)
  }

  /// A budgeted primary overflows into the secondary; Check on both sides stops the program
  /// if a block is given back to the wrong one.
  @Test func fallbackPassesTheConformanceChecker() {
    var options = ConformanceChecker.Options()
    options.resetReclaimsBlocks = false
    var stack = Stats {
      Fallback {
        Limit(bytes: 2 << 20) { Check { ProcessAllocator() } }
      } otherwise: {
        Check { Mmap() }
      }
    }
    let outcome = ConformanceChecker.run(&stack, options: options, counters: Self.counts)
    #expect(outcome.violations == [])
    #expect(stack.parent.fallbacks > 100)
    #expect(stack.parent.fallbacks == stack.parent.primary.refusals)
  }

  /// Blocks go back to the stack that served them, whatever the order of frees.
  @Test func deallocationReachesTheStackThatServedTheBlock() {
    var stack = Fallback {
      Limit(bytes: 1000) { Stats { ProcessAllocator() } }
    } otherwise: {
      Stats { ProcessAllocator() }
    }
    var blocks: [UnsafeMutableRawPointer] = []
    for _ in 0..<25 { blocks.append(stack.allocate(byteCount: 100, alignment: 8)!) }
    #expect(stack.primary.parent.allocations == 10)
    // The secondary also gave the table's storage (one more allocation).
    #expect(stack.secondary.allocations == 16 && stack.fallbacks == 15)
    for block in blocks.reversed() { stack.deallocate(block, byteCount: 100, alignment: 8) }
    #expect(stack.primary.parent.liveBlocks == 0 && stack.primary.liveBytes == 0)
    #expect(stack.secondary.deallocations == 15 && stack.secondaryLiveBlocks == 0)
    stack.reset()  // gives the table back
    #expect(stack.secondary.liveBlocks == 0)
    #expect(stack.report.contains("  otherwise:\n    Stats:"))
  }

  /// Nil when both refuse. The secondary also pays for Fallback's table (4 KiB at first).
  @Test func fallbackPassesNilWhenBothRefuse() {
    var stack = Fallback {
      Limit(bytes: 10) { ProcessAllocator() }
    } otherwise: {
      Limit(bytes: 5000) { ProcessAllocator() }
    }
    let first = stack.allocate(byteCount: 10, alignment: 1)!
    let second = stack.allocate(byteCount: 10, alignment: 1)!
    #expect(stack.secondary.liveBytes == 4096 + 10)
    #expect(stack.allocate(byteCount: 1000, alignment: 1) == nil)
    #expect(stack.primary.refusals == 2 && stack.secondary.refusals == 1)
    stack.deallocate(second, byteCount: 10, alignment: 1)
    stack.deallocate(first, byteCount: 10, alignment: 1)
    #expect(stack.primary.liveBytes == 0 && stack.secondary.liveBytes == 4096)
    stack.reset()
    #expect(stack.secondary.liveBytes == 0)
  }

  @Test func bySizePassesTheConformanceChecker() {
    var stack = Stats {
      BySize(threshold: 4096) {
        Chunk(65536) { Check { Mmap() } }
      } above: {
        Check { Mmap() }
      }
    }
    var options = ConformanceChecker.Options()
    options.resetReclaimsBlocks = false
    let outcome = ConformanceChecker.run(&stack, options: options, counters: Self.counts)
    #expect(outcome.violations == [])
    #expect(stack.parent.large.liveBlocks == 0)
  }

  /// Requests up to the threshold go to the small stack, the rest to the large one, and
  /// each block goes back where it came from.
  @Test func bySizeSplitsAtTheThreshold() {
    var stack = BySize(threshold: 256) {
      Stats { ProcessAllocator() }
    } above: {
      Stats { ProcessAllocator() }
    }
    let sizes = [0, 1, 255, 256, 257, 4096, 100_000]
    let blocks = sizes.map { stack.allocate(byteCount: $0, alignment: 16)! }
    #expect(stack.small.allocations == 4 && stack.large.allocations == 3)
    #expect(stack.large.bytesAllocated == 257 + 4096 + 100_000)
    for (block, size) in zip(blocks, sizes) {
      stack.deallocate(block, byteCount: size, alignment: 16)
    }
    #expect(stack.small.liveBlocks == 0 && stack.large.liveBlocks == 0)
    #expect(BySize<Locked<ProcessAllocator>, PerThread<ProcessAllocator>>.isThreadSafe)
    #expect(!BySize<Locked<ProcessAllocator>, ProcessAllocator>.isThreadSafe)
  }
}
