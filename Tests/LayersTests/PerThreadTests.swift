import Layers
import RegionsTestSupport
import Testing

@Suite("PerThread")
struct PerThreadTests {
  typealias Slots = PerThread<Stats<Chunk<Check<Mmap>>>>

  /// Allocations and deallocations counted by every slot's Stats.
  static func slotCounts(_ stack: Slots, collecting: Bool = true) -> (
    allocations: Int, deallocations: Int, liveBytes: Int, used: Int
  ) {
    var totals = (allocations: 0, deallocations: 0, liveBytes: 0, used: 0)
    stack.forEachSlot(collectingRemoteFrees: collecting) { _, stats in
      totals.allocations += stats.allocations
      totals.deallocations += stats.deallocations
      totals.liveBytes += stats.liveBytes
      totals.used += 1
    }
    return totals
  }

  @Test func passesTheConformanceChecker() {
    var stack = Stats { PerThread(slots: 4) { Chunk(65536) { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }

  @Test func roundsSlotsToAPowerOfTwo() {
    #expect(PerThread(slots: 5) { ProcessAllocator() }.slotCount == 8)
    #expect(PerThread(slots: 1) { ProcessAllocator() }.slotCount == 1)
    #expect(PerThread { ProcessAllocator() }.slotCount == 64)
    #expect(PerThread<ProcessAllocator>.isThreadSafe)
  }

  /// Blocks one thread allocates and another frees go back to the allocating slot: they
  /// wait on its remote free list until its owner allocates again (or they are collected).
  @Test(
    .disabled(
      if: _threadSanitizerIsActive, "concurrent calls through one pointer; see Docs/Safety.md"))
  func remoteFreesReturnToTheAllocatingSlot() {
    let stack = UnsafeMutablePointer<Slots>.allocate(capacity: 1)
    stack.initialize(to: PerThread(slots: 1024) { Stats { Chunk(65536) { Check { Mmap() } } } })
    defer {
      stack.deinitialize(count: 1)
      stack.deallocate()
    }
    let shared = Hammer.SharedPointer(pointer: stack)
    let blocks = Hammer.SharedPointer(
      pointer: UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: 100))
    defer { blocks.pointer.deallocate() }

    // This (synchronous) test stays on one thread: it owns one slot.
    for index in 0..<100 {
      blocks.pointer[index] = stack.pointee.allocate(byteCount: 40, alignment: 8)!
    }
    Hammer.onThreads(1) { _ in
      for index in 0..<100 {
        shared.pointer.pointee.deallocate(blocks.pointer[index], byteCount: 40, alignment: 8)
      }
    }
    // The freeing thread used no slot of its own; its frees wait for the allocating slot.
    var counts = Self.slotCounts(stack.pointee, collecting: false)
    #expect(counts.used == 1 && counts.allocations == 100 && counts.deallocations == 0)

    // The owner's next allocation gives them to its parent.
    let last = stack.pointee.allocate(byteCount: 8, alignment: 8)!
    counts = Self.slotCounts(stack.pointee, collecting: false)
    #expect(counts.used == 1 && counts.allocations == 101 && counts.deallocations == 100)
    stack.pointee.deallocate(last, byteCount: 8, alignment: 8)
    counts = Self.slotCounts(stack.pointee, collecting: false)
    #expect(counts.liveBytes == 0)
  }

  /// Two threads share one instance and free each other's blocks; every slot's parent (not
  /// thread-safe) stays consistent, and the counts add up exactly. With one slot, the second
  /// thread uses the shared parent.
  @Test(
    .disabled(
      if: _threadSanitizerIsActive, "concurrent calls through one pointer; see Docs/Safety.md"),
    arguments: [1024, 1])
  func twoThreadsFreeEachOthersBlocks(slots: Int) {
    let stack = UnsafeMutablePointer<Slots>.allocate(capacity: 1)
    stack.initialize(to: PerThread(slots: slots) { Stats { Chunk(65536) { Check { Mmap() } } } })
    defer {
      stack.deinitialize(count: 1)
      stack.deallocate()
    }

    let totals = Hammer.run(stack, threads: 2, operations: 100_000, handOff: true)

    let counts = Self.slotCounts(stack.pointee)
    #expect(totals.corruptions == 0)
    #expect(totals.handedOff > 10_000)
    #expect(counts.used == 2)
    var shared = 0
    stack.pointee.forEachSlot { index, stats in
      if index == stack.pointee.slotCount { shared = stats.allocations }
    }
    #expect((shared > 0) == (slots == 1))
    #expect(counts.allocations == totals.allocations)
    #expect(counts.deallocations == totals.deallocations)
    #expect(counts.liveBytes == 0)
    stack.pointee.reset()
  }
}
