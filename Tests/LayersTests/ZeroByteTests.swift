import Layers
import Testing

/// `byteCount` 0 returns a distinct block that is deallocated with `byteCount: 0`, in every
/// layer. Each stack has a Stats on top, then a Check (which verifies the sizes passed back).
@Suite("Zero-byte requests")
struct ZeroByteTests {
  func zeroByteBlocks<Parent: Layer>(_ stack: inout Stats<Check<Parent>>) throws {
    let a = try stack.requireBlock(0, alignment: 1)
    let b = try stack.requireBlock(0, alignment: 1)
    let c = try stack.requireBlock(0, alignment: 64)
    #expect(Set([a, b, c]).count == 3, "distinct blocks")
    #expect(Int(bitPattern: c) % 64 == 0)
    #expect(stack.parent.liveBlocks == 3)
    #expect(stack.parent.liveBytes == 0)
    stack.deallocate(c, byteCount: 0, alignment: 64)
    stack.deallocate(a, byteCount: 0, alignment: 1)
    stack.deallocate(b, byteCount: 0, alignment: 1)
    #expect(stack.parent.liveBlocks == 0)
    #expect(stack.allocations == 3)
    #expect(stack.deallocations == 3)
    #expect(stack.bytesAllocated == 0)
    stack.reset()
  }

  @Test func mmap() throws {
    var stack = Stats { Check { Mmap() } }
    try zeroByteBlocks(&stack)
    #expect(stack.parent.parent.mappedBytes == 0)
  }

  @Test func system() throws {
    var stack = Stats { Check { ProcessAllocator() } }
    try zeroByteBlocks(&stack)
  }

  @Test func chunk() throws {
    var stack = Stats { Check { Chunk(4096) { Mmap() } } }
    try zeroByteBlocks(&stack)
    #expect(stack.parent.parent.liveChunks == 0)
  }

  @Test func batch() throws {
    var stack = Stats { Check { Batch { Mmap() } } }
    try zeroByteBlocks(&stack)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func check() throws {
    var stack = Stats { Check { Check { Mmap() } } }
    try zeroByteBlocks(&stack)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func bypass() throws {
    var stack = Stats { Check { Bypass { ProcessAllocator() } } }
    try zeroByteBlocks(&stack)
  }

  @Test func cardStack() throws {
    var stack = Stats { Check { Chunk(4096) { Batch { Check { Mmap() } } } } }
    try zeroByteBlocks(&stack)
    #expect(stack.parent.parent.parent.liveBlocks == 0)
  }
}
