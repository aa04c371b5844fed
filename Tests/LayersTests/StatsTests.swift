import Layers
import Testing

@Suite("Stats: counts what passes through")
struct StatsTests {
  @Test func countsAllocationsDeallocationsAndBytes() throws {
    var stats = Stats { ProcessAllocator() }
    let a = try stats.requireBlock(100, alignment: 8)
    let b = try stats.requireBlock(300, alignment: 64)
    #expect(stats.allocations == 2)
    #expect(stats.bytesAllocated == 400)
    #expect(stats.liveBytes == 400)
    #expect(stats.liveBlocks == 2)
    stats.deallocate(a, byteCount: 100, alignment: 8)
    #expect(stats.deallocations == 1)
    #expect(stats.bytesDeallocated == 100)
    #expect(stats.liveBytes == 300)
    #expect(stats.liveBlocks == 1)
    stats.deallocate(b, byteCount: 300, alignment: 64)
    #expect(stats.liveBytes == 0)
    #expect(stats.liveBlocks == 0)
    #expect(stats.failedAllocations == 0)
  }

  @Test func peakLiveBytesIsTheHighWaterMark() throws {
    var stats = Stats { ProcessAllocator() }
    let a = try stats.requireBlock(1000, alignment: 8)
    let b = try stats.requireBlock(500, alignment: 8)
    stats.deallocate(a, byteCount: 1000, alignment: 8)
    let c = try stats.requireBlock(200, alignment: 8)
    #expect(stats.liveBytes == 700)
    #expect(stats.peakLiveBytes == 1500)
    stats.deallocate(b, byteCount: 500, alignment: 8)
    stats.deallocate(c, byteCount: 200, alignment: 8)
    #expect(stats.peakLiveBytes == 1500)
  }

  @Test func countersSurviveReset() throws {
    var stats = Stats { Chunk(4096) { Mmap() } }
    for _ in 0..<10 { _ = try stats.requireBlock(100, alignment: 8) }
    stats.reset()
    #expect(stats.allocations == 10)
    #expect(stats.bytesAllocated == 1000)
    #expect(stats.peakLiveBytes == 1000)
    // Blocks the reset took back were never deallocated: they stay counted as live.
    #expect(stats.liveBlocks == 10)
    #expect(stats.parent.liveChunks == 0)
  }

  @Test func failedAllocationsAreCounted() throws {
    var stats = Stats { ProcessAllocator() }
    // No process allocator serves this much.
    #expect(stats.allocate(byteCount: Int.max / 2, alignment: 16) == nil)
    #expect(stats.allocate(byteCount: Int.max / 2, alignment: 4096) == nil)
    #expect(stats.failedAllocations == 2)
    #expect(stats.allocations == 0)
    #expect(stats.bytesAllocated == 0)
  }

  @Test func descriptionIsATableOfTheCounters() throws {
    var stats = Stats { ProcessAllocator() }
    let a = try stats.requireBlock(1234, alignment: 8)
    _ = try stats.requireBlock(66, alignment: 8)
    stats.deallocate(a, byteCount: 1234, alignment: 8)
    _ = stats.allocate(byteCount: Int.max / 2, alignment: 16)
    let expected = """
      Stats<ProcessAllocator>
        allocations            2
        deallocations          1
        failed allocations     1
        bytes allocated     1300
        bytes deallocated   1234
        live blocks            1
        live bytes            66
        peak live bytes     1300

      """
    #expect(stats.description == expected)
  }

  @Test func reportListsEveryLayerOutermostFirst() throws {
    var stack = Stats { Chunk(4096) { Batch { Check { Mmap() } } } }
    let block = try stack.requireBlock(100, alignment: 8)
    let lines = stack.report.split(separator: "\n").map(String.init)
    #expect(lines.count == 5)
    #expect(
      lines.first
        == "Stats: 1 allocations, 0 deallocations, 100 bytes live in 1 blocks, peak 100 bytes")
    #expect(
      lines.dropFirst().map { $0.prefix(while: { $0 != ":" }) } == [
        "Chunk(4096)", "Batch", "Check", "Mmap",
      ])
    stack.deallocate(block, byteCount: 100, alignment: 8)
    stack.reset()
  }
}
