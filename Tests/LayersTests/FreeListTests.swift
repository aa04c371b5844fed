import Layers
import RegionsTestSupport
import Testing

@Suite("FreeList")
struct FreeListTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { FreeList(slabSize: 1 << 20) { Check(onLeak: .report) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack, counters: statsCounts)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.parent.parent.leakedBlocks == 0)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func freedNeighboursCoalesce() throws {
    var heap = FreeList(slabSize: 65536) { Stats { Mmap() } }
    let a = try heap.requireBlock(1000)
    let b = try heap.requireBlock(1000)
    let c = try heap.requireBlock(1000)
    // Sizes round up to 16 bytes; a fresh span is carved in address order.
    #expect(b == a + 1008)
    #expect(c == b + 1008)
    #expect(heap.freeRangeCount == 1)  // the rest of the span
    heap.deallocate(a, byteCount: 1000, alignment: 16)
    #expect(heap.freeRangeCount == 2)
    heap.deallocate(b, byteCount: 1000, alignment: 16)
    #expect(heap.freeRangeCount == 2)  // a and b are one range now
    // A request of a + b fits where they were, without asking the parent.
    let parentCalls = heap.parent.allocations
    let ab = try heap.requireBlock(2016)
    #expect(ab == a)
    #expect(heap.parent.allocations == parentCalls)
    #expect(heap.freeRangeCount == 1)
    // Freeing the middle merges with both sides.
    heap.deallocate(c, byteCount: 1000, alignment: 16)
    heap.deallocate(ab, byteCount: 2016, alignment: 16)
    #expect(heap.freeRangeCount == 1)
    #expect(heap.freeBytes == 65536 - 32)
    heap.reset()
    #expect(heap.parent.liveBytes == 0)
  }

  @Test func whollyFreeSpansGoBackToTheParent() throws {
    var heap = FreeList(slabSize: 65536) { Stats { Mmap() } }
    var blocks: [UnsafeMutableRawPointer] = []
    // 64 blocks of 1008 bytes fit a span: 200 blocks take four spans.
    for _ in 0..<200 { blocks.append(try heap.requireBlock(1000)) }
    #expect(heap.slabCount == 4)
    for block in blocks.reversed() { heap.deallocate(block, byteCount: 1000, alignment: 16) }
    // One span stays for the next request; the others went back.
    #expect(heap.slabCount == 1)
    #expect(heap.slabsReturned == 3)
    #expect(heap.parent.liveBytes == 65536)
    #expect(heap.freeRangeCount == 1)
  }

  @Test func paddingForAlignmentStaysFree() throws {
    var heap = FreeList(slabSize: 65536) { Mmap() }
    let small = try heap.requireBlock(16)
    let aligned = try heap.requireBlock(64, alignment: 4096)
    #expect(UInt(bitPattern: aligned) % 4096 == 0)
    // The padding between them is free and serves the next small request.
    let next = try heap.requireBlock(16)
    #expect(next == small + 16)
    heap.reset()
  }

  @Test func largeRequestsGoToTheParent() throws {
    var heap = FreeList(slabSize: 65536) { RecordingParent { Mmap() } }
    let large = try heap.requireBlock(20_000)  // over a quarter span
    #expect(
      heap.parent.block(at: UInt(bitPattern: large)) == .init(byteCount: 20_000, alignment: 16))
    #expect(heap.largeBlockCount == 1)
    #expect(heap.slabCount == 0)
    heap.reset()
    #expect(heap.parent.live.isEmpty)
  }

  @Test func aDoubleFreeStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var heap = FreeList(slabSize: 65536) { Mmap() }
      let block = heap.allocate(byteCount: 100, alignment: 16)!
      _ = heap.allocate(byteCount: 100, alignment: 16)!
      heap.deallocate(block, byteCount: 100, alignment: 16)
      heap.deallocate(block, byteCount: 100, alignment: 16)
    }
    #expect(standardError(result).contains("already free"))
  }

  @Test func aForeignLargeBlockStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var heap = FreeList(slabSize: 65536) { Mmap() }
      var other = Mmap()
      let foreign = other.allocate(byteCount: 1 << 20, alignment: 16)!
      heap.deallocate(foreign, byteCount: 1 << 20, alignment: 16)
    }
    #expect(standardError(result).contains("FreeList<Mmap> was asked to deallocate"))
    #expect(standardError(result).contains("not a live large block of this layer"))
  }
}
