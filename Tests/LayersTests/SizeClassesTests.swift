import Layers
import RegionsTestSupport
import Testing

@Suite("SizeClasses")
struct SizeClassesTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { SizeClasses { Check(onLeak: .report) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack, counters: statsCounts)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.parent.parent.leakedBlocks == 0)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func theClasses() {
    typealias Classes = SizeClasses<Mmap>
    let sizes = [0, 1, 16, 17, 128, 129, 160, 161, 256, 257, 1000, 4096, 4097, 32768]
    #expect(
      sizes.map { Classes.classSize(forByteCount: $0, alignment: 8) }
        == [16, 16, 16, 32, 128, 160, 160, 192, 256, 320, 1024, 4096, 5120, 32768])
    #expect(Classes.classSize(forByteCount: 32769, alignment: 8) == nil)
    // Alignment picks the smallest class whose lowest set bit is at least the alignment.
    #expect(Classes.classSize(forByteCount: 100, alignment: 64) == 128)
    #expect(Classes.classSize(forByteCount: 1, alignment: 4096) == 4096)
    #expect(Classes.classSize(forByteCount: 5000, alignment: 4096) == 8192)
    #expect(Classes.classSize(forByteCount: 1, alignment: 8192) == nil)
  }

  @Test func freedBlocksAreReusedByClass() throws {
    var heap = SizeClasses { Stats { Mmap() } }
    let first = try heap.requireBlock(100)  // class 112
    let listed = heap.freeBlockCount(forByteCount: 100, alignment: 16)
    #expect(listed == 4096 / 112 - 1)  // the rest of the refill run
    heap.deallocate(first, byteCount: 100, alignment: 16)
    #expect(heap.freeBlockCount(forByteCount: 100, alignment: 16) == listed + 1)
    // Another size of the same class gets the freed block back.
    let sameClass = try heap.requireBlock(97)
    #expect(sameClass == first)
    heap.deallocate(sameClass, byteCount: 97, alignment: 16)
    // A size of another class does not, though the block would be large enough.
    let otherClass = try heap.requireBlock(80)  // class 80
    #expect(otherClass != first)
    #expect(heap.freeBlockCount(forByteCount: 100, alignment: 16) == listed + 1)
    #expect(heap.parent.allocations == 1)  // one span serves both classes
    heap.reset()
    #expect(heap.parent.liveBytes == 0)
  }

  @Test func largeRequestsGoToTheParent() throws {
    var heap = SizeClasses { RecordingParent { Mmap() } }
    let large = try heap.requireBlock(40_000)
    #expect(
      heap.parent.block(at: UInt(bitPattern: large)) == .init(byteCount: 40_000, alignment: 16))
    #expect(heap.largeBlockCount == 1)
    #expect(heap.slabCount == 0)
    heap.deallocate(large, byteCount: 40_000, alignment: 16)
    #expect(heap.parent.block(at: UInt(bitPattern: large)) == nil)
    heap.reset()
    #expect(heap.parent.live.isEmpty)
  }

  @Test func aForeignLargeBlockStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var heap = SizeClasses { Mmap() }
      var other = Mmap()
      let foreign = other.allocate(byteCount: 1 << 20, alignment: 16)!
      heap.deallocate(foreign, byteCount: 1 << 20, alignment: 16)
    }
    #expect(standardError(result).contains("SizeClasses<Mmap> was asked to deallocate"))
    #expect(standardError(result).contains("not a live large block of this layer"))
  }
}
