import Layers
import Testing

/// Every layer passes a nil from below up, and stays usable afterwards.
///
/// Forced mmap failures are process-wide, so each test runs in a child process (an exit test
/// expected to succeed) where no other test maps pages at the same time.
@Suite("Allocation failure is passed up as nil")
struct FailureTests {
  @Test func statsOverChunkCountsTheFailure() async {
    await #expect(processExitsWith: .success) {
      var stack = Stats { Chunk(4096) { Mmap() } }
      _failNextPageMappings(1)
      #expect(stack.allocate(byteCount: 100, alignment: 8) == nil)
      #expect(stack.failedAllocations == 1)
      #expect(stack.allocations == 0)
      #expect(stack.parent.liveChunks == 0)
      let block = stack.allocate(byteCount: 100, alignment: 8)
      #expect(block != nil)
      #expect(stack.allocations == 1)
      stack.reset()
      #expect(stack.parent.parent.mappedBytes == 0)
    }
  }

  @Test func everyLayerOverMmapReturnsNil() async {
    await #expect(processExitsWith: .success) {
      var chunk = Chunk(4096) { Mmap() }
      var batch = Batch { Mmap() }
      var check = Check { Mmap() }
      var stats = Stats { Mmap() }
      var bypass = Bypass { Mmap() }
      _failNextPageMappings(1)
      #expect(chunk.allocate(byteCount: 1, alignment: 1) == nil)
      _failNextPageMappings(1)
      #expect(batch.allocate(byteCount: 1, alignment: 1) == nil, "no room for the book")
      _failNextPageMappings(1)
      #expect(check.allocate(byteCount: 1, alignment: 1) == nil, "no room for the table")
      _failNextPageMappings(1)
      #expect(stats.allocate(byteCount: 1, alignment: 1) == nil)
      _failNextPageMappings(1)
      #expect(bypass.allocate(byteCount: 1, alignment: 1) == nil)
      #expect(chunk.liveChunks == 0)
      #expect(batch.liveBlocks == 0)
      #expect(check.liveBlocks == 0)
      #expect(stats.failedAllocations == 1)
      // Book and table in place: now the block itself fails.
      let booked = batch.allocate(byteCount: 1, alignment: 1)!
      let checked = check.allocate(byteCount: 1, alignment: 1)!
      _failNextPageMappings(2)
      #expect(batch.allocate(byteCount: 1, alignment: 1) == nil)
      #expect(check.allocate(byteCount: 1, alignment: 1) == nil)
      #expect(batch.liveBlocks == 1)
      #expect(check.liveBlocks == 1)
      #expect(check.liveBytes == 1)
      batch.deallocate(booked, byteCount: 1, alignment: 1)
      check.deallocate(checked, byteCount: 1, alignment: 1)
      batch.reset()
      check.reset()
      #expect(batch.parent.mappedBytes == 0)
      #expect(check.parent.mappedBytes == 0)
    }
  }

  @Test func chunkKeepsItsCurrentChunkWhenANewOneFails() async {
    await #expect(processExitsWith: .success) {
      var chunk = Chunk(4096) { Mmap() }
      let first = chunk.allocate(byteCount: 100, alignment: 8)!
      _failNextPageMappings(2)
      #expect(chunk.allocate(byteCount: 10_000, alignment: 8) == nil, "no dedicated chunk")
      #expect(chunk.allocate(byteCount: 4000, alignment: 8) == nil, "no next chunk")
      #expect(chunk.liveChunks == 1)
      let next = chunk.allocate(byteCount: 100, alignment: 8)
      #expect(next == first + 104, "the current chunk still serves")
      chunk.reset()
      #expect(chunk.parent.mappedBytes == 0)
    }
  }

  @Test func cardStackPassesNilUpFromEveryDepth() async {
    await #expect(processExitsWith: .success) {
      // The first allocation maps Check's table, Batch's book (through Check), then a chunk
      // (through Batch and Check): fail each in turn.
      for failing in 1...3 {
        var stack = Stats { Chunk(4096) { Batch { Check { Mmap() } } } }
        for _ in 1..<failing { _ = stack.allocate(byteCount: 4000, alignment: 8)! }
        _failNextPageMappings(1)
        #expect(stack.allocate(byteCount: 4000, alignment: 8) == nil, "failing map \(failing)")
        #expect(stack.failedAllocations == 1)
        let block = stack.allocate(byteCount: 4000, alignment: 8)
        #expect(block != nil)
        // Reset goes through Check in `.stop` mode: nothing may be left live below Chunk.
        stack.reset()
        #expect(stack.parent.parent.parent.liveBlocks == 0)
        #expect(stack.parent.parent.parent.parent.mappedBytes == 0)
      }
    }
  }
}
