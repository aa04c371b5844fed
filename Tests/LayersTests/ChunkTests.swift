import Layers
import Testing

@Suite("Chunk: bump allocation out of chunks")
struct ChunkTests {
  @Test func bumpsInOrderAfterTheHeader() throws {
    var chunk = Chunk(4096) { Mmap() }
    let first = try chunk.requireBlock(10, alignment: 1)
    let second = try chunk.requireBlock(20, alignment: 1)
    let third = try chunk.requireBlock(8, alignment: 8)
    #expect(second == first + 10)
    // 30 bytes in, padded to 32 for the 8-byte alignment.
    #expect(third == first + 32)
    // The first block follows the 32-byte chunk header at the chunk's (page-aligned) start.
    #expect(Int(bitPattern: first) % pageSize == 32)
    #expect(chunk.liveChunks == 1)
    #expect(chunk.chunkBytes == 4096)
    chunk.reset()
  }

  @Test func fillsAChunkThenTakesANewOne() throws {
    var chunk = Chunk(4096) { Stats { Mmap() } }
    // Exactly one chunk's room: 4096 minus the 32-byte header.
    let whole = try chunk.requireBlock(4096 - 32, alignment: 1)
    #expect(chunk.liveChunks == 1)
    let next = try chunk.requireBlock(1, alignment: 1)
    #expect(chunk.liveChunks == 2)
    #expect(next != whole)
    #expect(chunk.parent.allocations == 2)
    #expect(chunk.parent.bytesAllocated == 2 * 4096)
    chunk.reset()
  }

  @Test func largeRequestGetsADedicatedChunkAndTheCurrentOneStays() throws {
    var chunk = Chunk(4096) { Stats { Mmap() } }
    let small = try chunk.requireBlock(100, alignment: 1)
    let large = try chunk.requireBlock(10_000, alignment: 16)
    let after = try chunk.requireBlock(100, alignment: 1)
    #expect(after == small + 100, "the current chunk keeps serving small requests")
    #expect(chunk.liveChunks == 2)
    // The dedicated chunk holds the header and the block: 32 + 10,000 bytes.
    #expect(chunk.chunkBytes == 4096 + 10_032)
    #expect(chunk.parent.bytesAllocated == 4096 + 10_032)
    #expect(Int(bitPattern: large) % 16 == 0)
    large.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 10_000)
    #expect(small.load(as: UInt8.self) == 0, "the large block does not overlap the small one")
    chunk.reset()
  }

  @Test func alignmentAboveTheChunkSizeIsHonored() throws {
    var chunk = Chunk(4096) { Mmap() }
    for alignment in [8192, 65536, 1 << 20] {
      let block = try chunk.requireBlock(16, alignment: alignment)
      #expect(Int(bitPattern: block) % alignment == 0)
    }
    #expect(chunk.liveChunks == 3)
    chunk.reset()
    #expect(chunk.parent.mappedBytes == 0)
  }

  @Test func resetReturnsEveryChunkToTheParent() throws {
    var chunk = Chunk(4096) { Stats { Mmap() } }
    for index in 0..<1000 {
      _ = try chunk.requireBlock(1 + index % 300, alignment: 8)
    }
    _ = try chunk.requireBlock(100_000, alignment: 64)
    let chunks = chunk.liveChunks
    #expect(chunks > 10)
    #expect(chunk.parent.parent.mappedBytes > 0)
    chunk.reset()
    #expect(chunk.liveChunks == 0)
    #expect(chunk.chunkBytes == 0)
    #expect(chunk.chunksAllocated == chunks, "chunksAllocated survives reset")
    #expect(chunk.parent.allocations == chunks)
    #expect(chunk.parent.liveBlocks == 0)
    #expect(chunk.parent.liveBytes == 0)
    #expect(chunk.parent.parent.mappedBytes == 0)
    // The layer serves again after a reset.
    _ = try chunk.requireBlock(10, alignment: 1)
    #expect(chunk.liveChunks == 1)
    chunk.reset()
  }

  @Test func deallocatingTheLatestBlockRollsBack() throws {
    var chunk = Chunk(4096) { Mmap() }
    let first = try chunk.requireBlock(64, alignment: 16)
    let second = try chunk.requireBlock(64, alignment: 16)
    chunk.deallocate(second, byteCount: 64, alignment: 16)
    let again = try chunk.requireBlock(64, alignment: 16)
    #expect(again == second, "the latest block's space is reused")
    // An older block's space is not reused.
    chunk.deallocate(first, byteCount: 64, alignment: 16)
    let third = try chunk.requireBlock(64, alignment: 16)
    #expect(third == second + 64)
    chunk.reset()
  }

  @Test func reportNamesChunkSizeAndChunks() throws {
    var chunk = Chunk(4096) { Mmap() }
    _ = try chunk.requireBlock(10, alignment: 1)
    let lines = chunk.report.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.first == "Chunk(4096): 1 chunks (4096 bytes) held, 1 requested so far")
    #expect(lines.last?.hasPrefix("Mmap: 4096 bytes mapped") == true)
    chunk.reset()
  }

  @Test func chunkSizeUnder64Stops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = Chunk(10) { Mmap() }
    }
    #expect(standardError(result).contains("chunkSize must be at least 64 bytes (got 10)"))
  }
}
