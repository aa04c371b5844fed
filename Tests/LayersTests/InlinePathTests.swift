import Layers
import RegionsTestSupport
import Testing

@Suite("The inline path: allocateWithoutCalls and deallocateWithoutCalls")
struct InlinePathTests {
  @Test func chunkBumpsInlineOnlyInsideTheCurrentChunk() throws {
    var chunk = Chunk(4096) { Mmap() }
    // No chunk yet: the inline path cannot get one.
    let served1 = chunk.allocateWithoutCalls(byteCount: 16, alignment: 16)
    #expect(served1 == nil)
    #expect(chunk.chunksAllocated == 0)
    let served2 = chunk.allocate(byteCount: 16, alignment: 16)
    let first = try #require(served2)
    let served3 = chunk.allocateWithoutCalls(byteCount: 16, alignment: 16)
    let second = try #require(served3)
    #expect(second == first + 16)
    // More than the chunk has left: nil, and no new chunk.
    let served4 = chunk.allocateWithoutCalls(byteCount: 8192, alignment: 16)
    #expect(served4 == nil)
    #expect(chunk.chunksAllocated == 1)
    // Freeing the newest block inline rolls the cursor back, as deallocate does.
    let served5 = chunk.deallocateWithoutCalls(second, byteCount: 16, alignment: 16)
    #expect(served5)
    let served6 = chunk.allocateWithoutCalls(byteCount: 16, alignment: 16)
    #expect(served6 == second)
    chunk.reset()
  }

  @Test func sizeClassesPopInlineOnlyFromAListThatHasBlocks() throws {
    var pool = SizeClasses { Mmap() }
    let served7 = pool.allocateWithoutCalls(byteCount: 64, alignment: 16)
    #expect(served7 == nil)
    let served8 = pool.allocate(byteCount: 64, alignment: 16)
    let block = try #require(served8)
    let served9 = pool.deallocateWithoutCalls(block, byteCount: 64, alignment: 16)
    #expect(served9)
    let served10 = pool.allocateWithoutCalls(byteCount: 64, alignment: 16)
    #expect(served10 == block)
    // A large block is never inline: its way back goes through the parent.
    let served11 = pool.allocate(byteCount: 1 << 20, alignment: 16)
    let large = try #require(served11)
    let served12 = pool.allocateWithoutCalls(byteCount: 1 << 20, alignment: 16)
    #expect(served12 == nil)
    let served13 = pool.deallocateWithoutCalls(large, byteCount: 1 << 20, alignment: 16)
    #expect(!served13)
    pool.deallocate(large, byteCount: 1 << 20, alignment: 16)
    pool.deallocate(block, byteCount: 64, alignment: 16)
    pool.reset()
  }

  @Test func statsCountsWhatItsParentServesInline() throws {
    var stats = Stats { Chunk(4096) { Mmap() } }
    let served14 = stats.allocate(byteCount: 32, alignment: 16)
    let first = try #require(served14)
    let served15 = stats.allocateWithoutCalls(byteCount: 48, alignment: 16)
    let second = try #require(served15)
    #expect(stats.allocations == 2)
    #expect(stats.bytesAllocated == 80)
    let served16 = stats.deallocateWithoutCalls(second, byteCount: 48, alignment: 16)
    #expect(served16)
    stats.deallocate(first, byteCount: 32, alignment: 16)
    #expect(stats.deallocations == 2)
    #expect(stats.liveBytes == 0)
    // A nil from the inline path is not a failed allocation.
    var empty = Stats { Chunk(4096) { Mmap() } }
    let served17 = empty.allocateWithoutCalls(byteCount: 32, alignment: 16)
    #expect(served17 == nil)
    #expect(empty.failedAllocations == 0 && empty.allocations == 0)
    stats.reset()
  }

  @Test func aWrappingLayerDoesNotForwardTheInlinePath() throws {
    // Forwarding would let the parent serve a block the wrapping layer never saw.
    var counting = CountingOnly { Chunk(4096) { Mmap() } }
    let counted = counting.allocate(byteCount: 16, alignment: 16)
    #expect(counted != nil)
    let served18 = counting.allocateWithoutCalls(byteCount: 16, alignment: 16)
    #expect(served18 == nil)
    var bypass = Bypass { Chunk(4096) { Mmap() } }
    let bypassed = bypass.allocate(byteCount: 16, alignment: 16)
    #expect(bypassed != nil)
    let served19 = bypass.allocateWithoutCalls(byteCount: 16, alignment: 16)
    #expect(served19 == nil)
    #expect(counting.allocations == 1)
    counting.reset()
    bypass.reset()
  }

  @Test(
    .disabled(
      if: _threadSanitizerIsActive, "concurrent calls through one pointer; see Docs/Safety.md"))
  func perThreadIsInlineOnlyOnTheThreadsOwnSlot() throws {
    typealias Slots = PerThread<Stats<Chunk<Mmap>>>
    let stack = UnsafeMutablePointer<Slots>.allocate(capacity: 1)
    stack.initialize(to: PerThread(slots: 1024) { Stats { Chunk(4096) { Mmap() } } })
    let freedInline = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
    defer {
      stack.pointee.reset()
      stack.deinitialize(count: 1)
      stack.deallocate()
      freedInline.deallocate()
    }
    // The thread has not claimed its slot yet.
    let beforeClaiming = stack.pointee.allocateWithoutCalls(byteCount: 32, alignment: 16)
    #expect(beforeClaiming == nil)
    let claiming = stack.pointee.allocate(byteCount: 32, alignment: 16)
    let first = try #require(claiming)
    let inline = stack.pointee.allocateWithoutCalls(byteCount: 32, alignment: 16)
    let second = try #require(inline)

    // Another thread cannot take the block back inline: it goes on the slot's remote list.
    let shared = Hammer.SharedPointer(pointer: stack)
    let flag = Hammer.SharedPointer(pointer: freedInline)
    let address = UInt(bitPattern: second)
    Hammer.onThreads(1) { _ in
      let block = UnsafeMutableRawPointer(bitPattern: address).unsafelyUnwrapped
      flag.pointer.pointee = shared.pointer.pointee.deallocateWithoutCalls(
        block, byteCount: 32, alignment: 16)
      if !flag.pointer.pointee {
        shared.pointer.pointee.deallocate(block, byteCount: 32, alignment: 16)
      }
    }
    #expect(!freedInline.pointee)
    // While the remote free waits, the inline path leaves the slot to allocate, which takes
    // the block back first.
    let waiting = stack.pointee.allocateWithoutCalls(byteCount: 32, alignment: 16)
    #expect(waiting == nil)
    let draining = stack.pointee.allocate(byteCount: 32, alignment: 16)
    let third = try #require(draining)
    let ownFree = stack.pointee.deallocateWithoutCalls(third, byteCount: 32, alignment: 16)
    #expect(ownFree)
    stack.pointee.deallocate(first, byteCount: 32, alignment: 16)
    var counts = (allocations: 0, deallocations: 0, liveBytes: 0)
    stack.pointee.forEachSlot { _, stats in
      counts.allocations += stats.allocations
      counts.deallocations += stats.deallocations
      counts.liveBytes += stats.liveBytes
    }
    #expect(counts.allocations == 3 && counts.deallocations == 3 && counts.liveBytes == 0)
  }
}
