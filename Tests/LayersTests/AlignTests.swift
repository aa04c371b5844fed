import Layers
import RegionsTestSupport
import Testing

@Suite("Align")
struct AlignTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { Align(64) { Chunk(65536) { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }

  /// Every block meets the minimum even when less is asked, and the parent is given back
  /// each block with the alignment it allocated it with (Check under Align would stop).
  @Test func raisesEveryAlignmentToTheMinimum() {
    var stack = Align(256) { Check { ProcessAllocator() } }
    var blocks: [(UnsafeMutableRawPointer, Int, Int)] = []
    for size in 1...200 {
      let alignment = 1 << (size % 10)
      let pointer = stack.allocate(byteCount: size, alignment: alignment)!
      #expect(UInt(bitPattern: pointer) % UInt(max(alignment, 256)) == 0)
      blocks.append((pointer, size, alignment))
    }
    #expect(stack.parent.liveBlocks == 200)
    for (pointer, size, alignment) in blocks {
      stack.deallocate(pointer, byteCount: size, alignment: alignment)
    }
    #expect(stack.parent.liveBlocks == 0)
    #expect(stack.report.hasPrefix("Align(256)"))
    #expect(Align<Mmap>.returnsZeroedMemory && !Align<ProcessAllocator>.isThreadSafe)
    #expect(Align<Locked<ProcessAllocator>>.isThreadSafe)
  }

  @Test func rejectsAMinimumThatIsNotAPowerOfTwo() async {
    await #expect(processExitsWith: .failure) {
      _ = Align(48) { ProcessAllocator() }
    }
  }
}
