import Layers
import RegionsTestSupport
import Testing

@Suite("Locked")
struct LockedTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { Locked { Chunk(65536) { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }

  @Test func isThreadSafeWhateverItsParent() {
    #expect(Locked<Chunk<Mmap>>.isThreadSafe)
    #expect(!Chunk<Mmap>.isThreadSafe)
    #expect(Locked<Mmap>.returnsZeroedMemory)
    #expect(!Locked<ProcessAllocator>.returnsZeroedMemory)
  }

  /// Two threads share one instance through a pointer; the parent (a bump allocator and a
  /// hash table of live blocks, neither thread-safe) stays consistent and counts exactly.
  @Test(
    .disabled(
      if: _threadSanitizerIsActive, "concurrent calls through one pointer; see Docs/Safety.md"))
  func twoThreadsShareOneInstance() {
    let stack = UnsafeMutablePointer<Locked<Stats<Check<Chunk<Mmap>>>>>.allocate(capacity: 1)
    stack.initialize(to: Locked { Stats { Check { Chunk(65536) { Mmap() } } } })
    defer {
      stack.deinitialize(count: 1)
      stack.deallocate()
    }

    let totals = Hammer.run(stack, threads: 2, operations: 100_000, handOff: true)

    let stats = stack.pointee.parent
    #expect(totals.corruptions == 0)
    #expect(totals.handedOff > 1_000)
    #expect(stats.allocations == totals.allocations)
    #expect(stats.deallocations == totals.deallocations)
    #expect(stats.bytesAllocated == totals.bytesAllocated)
    #expect(stats.bytesDeallocated == totals.bytesDeallocated)
    #expect(stats.parent.liveBlocks == 0)
    stack.pointee.reset()
  }
}
