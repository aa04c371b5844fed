import Layers
import Testing

@Suite("Batch: books every block, reset gives them all back")
struct BatchTests {
  @Test func booksAndUnbooksBlocks() throws {
    var batch = Batch { ProcessAllocator() }
    var blocks: [UnsafeMutableRawPointer] = []
    for size in 1...10 { blocks.append(try batch.requireBlock(size, alignment: 8)) }
    #expect(batch.liveBlocks == 10)
    batch.deallocate(blocks[3], byteCount: 4, alignment: 8)
    batch.deallocate(blocks[9], byteCount: 10, alignment: 8)
    #expect(batch.liveBlocks == 8)
    batch.reset()
    #expect(batch.liveBlocks == 0)
  }

  @Test func resetDeallocatesEveryBookedBlockToTheParent() throws {
    var batch = Batch { Stats { Mmap() } }
    // Enough blocks to grow the book several times (it starts with room for 128).
    for index in 0..<1000 { _ = try batch.requireBlock(1 + index, alignment: 16) }
    #expect(batch.liveBlocks == 1000)
    // The parent sees the blocks and the book's storage.
    #expect(batch.parent.liveBlocks == 1001)
    batch.reset()
    #expect(batch.liveBlocks == 0)
    #expect(batch.parent.liveBlocks == 0, "every block and the book went back to the parent")
    #expect(batch.parent.liveBytes == 0)
    #expect(batch.parent.parent.mappedBytes == 0)
    // The book is rebuilt on demand after a reset.
    let block = try batch.requireBlock(8, alignment: 8)
    batch.deallocate(block, byteCount: 8, alignment: 8)
    batch.reset()
    #expect(batch.parent.liveBlocks == 0)
  }

  @Test func reportCountsBookedBlocks() throws {
    var batch = Batch { ProcessAllocator() }
    _ = try batch.requireBlock(8, alignment: 8)
    #expect(batch.report == "Batch: 1 blocks booked\nProcessAllocator")
    batch.reset()
  }

  @Test func deallocatingAnUnbookedBlockStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var batch = Batch { ProcessAllocator() }
      _ = batch.allocate(byteCount: 8, alignment: 8)
      let stranger = UnsafeMutableRawPointer(bitPattern: 0x1000)!
      batch.deallocate(stranger, byteCount: 8, alignment: 8)
    }
    let message = standardError(result)
    #expect(message.contains("Batch<ProcessAllocator> was asked to deallocate 0x0000000000001000"))
  }
}
