import Glibc
import Layers
import RegionsTestSupport
import Testing

// Every Sbrk test runs in a child process (an exit test): the break is one value per
// process, and other tests running in parallel threads here could move it through malloc at
// the same moment, which Sbrk documents as unsafe. In the child, this test is the only work.
@Suite("Sbrk")
struct SbrkTests {
  @Test func passesTheConformanceChecker() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      var stack = Stats { Sbrk() }
      var options = ConformanceChecker.Options()
      options.resetReclaimsBlocks = false  // a source layer cannot take live blocks back
      let outcome = ConformanceChecker.run(&stack, options: options, counters: statsCounts)
      precondition(outcome.violations == [], "violations: \(outcome.violations)")
      precondition(
        outcome.counts.allocations > 50_000, "only \(outcome.counts.allocations) allocations")
      precondition(stack.parent.growths > 0, "the break never moved")
    }
    #expect(standardError(result) == "")
  }

  @Test func theBreakShrinksWhenTheTopmostBlockIsFreed() async {
    await #expect(processExitsWith: .success) {
      var heap = Sbrk()
      let block = heap.allocate(byteCount: 1 << 20, alignment: 16)!
      precondition(heap.heldBytes >= 1 << 20 && heap.growths == 1)
      heap.deallocate(block, byteCount: 1 << 20, alignment: 16)
      // The break comes down, keeping the minimum growth step (64 KiB) for the next request.
      precondition(heap.shrinks == 1, "shrinks: \(heap.shrinks)")
      precondition(heap.heldBytes == 65536 && heap.freeBytes == 65536, heap.report)
      heap.reset()
      precondition(heap.shrinks == 2 && heap.heldBytes == 0 && heap.freeRanges == 0, heap.report)
    }
  }

  @Test func theBreakMovesInStepsAndTrimsAboveTheThreshold() async {
    await #expect(processExitsWith: .success) {
      var heap = Sbrk(minimumGrowth: 65536, trimThreshold: 131072)
      let small = heap.allocate(byteCount: 100, alignment: 16)!
      precondition(heap.growths == 1 && heap.heldBytes == 65536, heap.report)
      for _ in 0..<100 {  // served from the step already taken
        heap.deallocate(
          heap.allocate(byteCount: 500, alignment: 16)!, byteCount: 500, alignment: 16)
      }
      precondition(heap.growths == 1, heap.report)
      // A free top range under the threshold stays.
      heap.deallocate(small, byteCount: 100, alignment: 16)
      precondition(heap.shrinks == 0 && heap.heldBytes == 65536, heap.report)
      // One at or above it goes back, all but a growth step.
      let large = heap.allocate(byteCount: 200_000, alignment: 16)!
      heap.deallocate(large, byteCount: 200_000, alignment: 16)
      precondition(heap.shrinks == 1 && heap.heldBytes == 65536, heap.report)
    }
  }

  @Test func freedBlocksBelowTheTopAreReused() async {
    await #expect(processExitsWith: .success) {
      var heap = Sbrk(minimumGrowth: 0, trimThreshold: 0)
      let low = heap.allocate(byteCount: 4000, alignment: 16)!
      let high = heap.allocate(byteCount: 4000, alignment: 16)!
      precondition(UInt(bitPattern: high) > UInt(bitPattern: low))
      heap.deallocate(low, byteCount: 4000, alignment: 16)
      precondition(heap.shrinks == 0 && heap.freeBytes == 4000, heap.report)
      let growths = heap.growths
      let again = heap.allocate(byteCount: 3000, alignment: 8)!
      precondition(again == low && heap.growths == growths, heap.report)
      // An aligned request pads its start; the padding stays free for reuse.
      let aligned = heap.allocate(byteCount: 100, alignment: 4096)!
      precondition(UInt(bitPattern: aligned) % 4096 == 0)
      heap.deallocate(aligned, byteCount: 100, alignment: 4096)
      heap.deallocate(again, byteCount: 3000, alignment: 8)
      heap.deallocate(high, byteCount: 4000, alignment: 16)
      precondition(heap.heldBytes == 0, heap.report)
    }
  }

  @Test func anotherMoverOnTopKeepsTheBreakUntilItLeaves() async {
    await #expect(processExitsWith: .success) {
      // Two independent users of the break, taking turns, as malloc and Sbrk would.
      var first = Sbrk(minimumGrowth: 0, trimThreshold: 0)
      var second = Sbrk(minimumGrowth: 0, trimThreshold: 0)
      let low = first.allocate(byteCount: 65536, alignment: 16)!
      let high = second.allocate(byteCount: 65536, alignment: 16)!
      precondition(UInt(bitPattern: high) >= UInt(bitPattern: low) + 65536)
      // The first's block is not topmost: it stays on the free list, the break stays.
      first.deallocate(low, byteCount: 65536, alignment: 16)
      precondition(first.shrinks == 0 && first.heldBytes == 65536, first.report)
      // The second's is: the break comes down to it.
      second.deallocate(high, byteCount: 65536, alignment: 16)
      precondition(second.shrinks == 1 && second.heldBytes == 0, second.report)
      // Now the first's free range is topmost; reset gives it back.
      first.reset()
      precondition(first.shrinks == 1 && first.heldBytes == 0, first.report)
    }
  }

  @Test func theCLibraryMovingTheBreakInBetweenIsRespected() async {
    await #expect(processExitsWith: .success) {
      // The C library's own sbrk, as glibc's malloc calls it, takes turns with Sbrk.
      var heap = Sbrk(minimumGrowth: 0, trimThreshold: 0)
      let low = heap.allocate(byteCount: 65536, alignment: 16)!
      let foreign = sbrk(8192)!
      precondition(UInt(bitPattern: foreign) >= UInt(bitPattern: low) + 65536)
      foreign.initializeMemory(as: UInt8.self, repeating: 0xA5, count: 8192)
      let high = heap.allocate(byteCount: 65536, alignment: 16)!
      precondition(
        UInt(bitPattern: high) >= UInt(bitPattern: foreign) + 8192, "overlaps malloc's bytes")
      heap.deallocate(low, byteCount: 65536, alignment: 16)
      precondition(heap.shrinks == 0, "moved the break below someone else's memory")
      heap.deallocate(high, byteCount: 65536, alignment: 16)
      precondition(heap.shrinks == 1)
      precondition(UInt(bitPattern: sbrk(0)) == UInt(bitPattern: foreign) + 8192)
      let bytes = UnsafeBufferPointer(
        start: foreign.assumingMemoryBound(to: UInt8.self), count: 8192)
      precondition(bytes.allSatisfy { $0 == 0xA5 }, "the foreign bytes changed")
      // The foreign user trims its memory (as glibc's free does at the top); Sbrk's free
      // range is topmost again and its reset gives it back.
      precondition(sbrk(-8192) != UnsafeMutableRawPointer(bitPattern: -1))
      heap.reset()
      precondition(heap.shrinks == 2 && heap.heldBytes == 0, heap.report)
      precondition(sbrk(0) == low)
    }
  }

  @Test func aDoubleFreeStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var heap = Sbrk()
      let block = heap.allocate(byteCount: 100, alignment: 16)!
      _ = heap.allocate(byteCount: 100, alignment: 16)!
      heap.deallocate(block, byteCount: 100, alignment: 16)
      heap.deallocate(block, byteCount: 100, alignment: 16)
    }
    #expect(standardError(result).contains("already free"))
  }
}
