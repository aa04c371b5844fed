import Layers
import Testing

@Suite("Bypass: forwards everything")
struct BypassTests {
  @Test func forwardsAllocateDeallocateAndReset() throws {
    var bypass = Bypass { Chunk(4096) { Stats { Mmap() } } }
    let a = try bypass.requireBlock(100, alignment: 8)
    let b = try bypass.requireBlock(100, alignment: 8)
    #expect(b == a + 104, "the parent's bump order shows through")
    bypass.deallocate(b, byteCount: 100, alignment: 8)
    let c = try bypass.requireBlock(100, alignment: 8)
    #expect(c == b, "deallocate reached the parent")
    #expect(bypass.parent.liveChunks == 1)
    bypass.reset()
    #expect(bypass.parent.liveChunks == 0, "reset reached the parent")
    #expect(bypass.parent.parent.liveBlocks == 0)
  }

  @Test func passesFailureUp() {
    var bypass = Bypass { ProcessAllocator() }
    #expect(bypass.allocate(byteCount: Int.max, alignment: 16) == nil)
  }

  @Test func isAsThreadSafeAsItsParent() {
    #expect(Bypass<ProcessAllocator>.isThreadSafe == ProcessAllocator.isThreadSafe)
    #expect(Bypass<ThreadSafeSource>.isThreadSafe)
  }

  @Test func reportNamesItselfThenItsParent() {
    #expect(Bypass { ProcessAllocator() }.report == "Bypass\nProcessAllocator")
  }
}

/// A stand-in for a thread-safe layer (a source with no state).
private struct ThreadSafeSource: Layer {
  static var isThreadSafe: Bool { true }
  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? { nil }
  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {}
  mutating func reset() {}
}
