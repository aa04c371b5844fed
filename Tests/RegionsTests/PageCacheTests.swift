import Glibc
import Regions
import RegionsTestSupport
import Testing

/// Pages a closed region gave back are kept and reused by the next region: zeroed for a layer
/// that promises zeroed memory (`Mmap.allocate`, as `Zero` calls it, and `calloc`), not cleared
/// for what does not need it (a region's `malloc`, a carving layer's chunks).
@Suite("The page cache clears reused pages only for what needs zeros", .hookMode)
struct PageCacheTests {
  /// 64 KiB minus the runtime's 16-byte header: one `Mmap` mapping of exactly a cached range.
  static let pageBlockByteCount = 65536 - 16

  /// A region over `Chunk(65536) { Mmap() }` fills most of its chunk with 0xAB and frees it,
  /// so that at the close the chunk's pages go to the cache dirty; returns the block (in the
  /// chunk's first page).
  static func dirtyOneChunk() -> UInt {
    Region.enter(Chunk(65536) { Mmap() }) {
      let block = opaqueMalloc(60000)!
      memset(block, 0xAB, 60000)
      opaqueFree(block)
      return UInt(bitPattern: block)
    }
  }

  /// Stops the program unless every byte of the page-sized `block` is zero.
  static func requireZeroed(_ block: UnsafeMutableRawPointer, _ what: String) {
    let bytes = block.assumingMemoryBound(to: UInt8.self)
    for offset in 0..<pageBlockByteCount where bytes[offset] != 0 {
      preconditionFailure("byte \(offset) of \(what) is \(bytes[offset])")
    }
  }

  /// Stops the program unless `block` lies on the pages `dirtyOneChunk` left at `dirty`,
  /// still holding what it wrote there.
  static func requireReusedUncleared(_ block: UnsafeMutableRawPointer, dirty: UInt) {
    precondition(UInt(bitPattern: block) >> 12 == dirty >> 12, "not the cached pages: \(block)")
    let bytes = block.assumingMemoryBound(to: UInt8.self)
    precondition(bytes[1000] == 0xAB, "the reused pages were cleared: \(bytes[1000])")
  }

  @Test func zeroedMemoryIsZeroEvenOnReusedPagesAndMallocReusesThemUncleared() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      Region.releaseCachedPages()
      let dirty = PageCacheTests.dirtyOneChunk()
      precondition(Region.memory.cachedBytes >= 65536, "cached: \(Region.memory.cachedBytes)")

      // Zero { Mmap() }: Zero relies on Mmap's promise, so the reused pages are cleared.
      let zeroed: UInt = Region.enter(Zero { Mmap() }) {
        let block = opaqueMalloc(PageCacheTests.pageBlockByteCount)!
        PageCacheTests.requireZeroed(block, "a Zero { Mmap() } block")
        opaqueFree(block)
        return UInt(bitPattern: block)
      }
      precondition(zeroed >> 12 == dirty >> 12, "not the cached pages: \(zeroed) against \(dirty)")

      // calloc in a region over Mmap(): zero on the reused pages.
      _ = PageCacheTests.dirtyOneChunk()
      Region.enter(Mmap()) {
        let block = calloc(1, PageCacheTests.pageBlockByteCount)!
        PageCacheTests.requireZeroed(block, "a calloc'd block")
        opaqueFree(block)
      }

      // malloc in a region over Mmap(): the same pages, not cleared (the cost the cache saves).
      _ = PageCacheTests.dirtyOneChunk()
      Region.enter(Mmap()) {
        let block = opaqueMalloc(PageCacheTests.pageBlockByteCount)!
        PageCacheTests.requireReusedUncleared(block, dirty: dirty)
        opaqueFree(block)
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.isEmpty, "\(message)")
  }

  /// The same through a parsed stack, whose layers are type-erased: malloc over a parsed
  /// `Mmap()` reaches `allocateUncleared` through the erased layers; a parsed `Zero` clears
  /// the reused pages itself (its erased parent promises nothing).
  @Test func aParsedStackClearsForZeroAndNotForMalloc() async throws {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      Region.releaseCachedPages()
      let dirty = PageCacheTests.dirtyOneChunk()
      let zeroStack = try! ParsedStack(parsing: "Zero { Mmap() }")
      Region.enter(zeroStack) {
        let block = opaqueMalloc(PageCacheTests.pageBlockByteCount)!
        precondition(UInt(bitPattern: block) >> 12 == dirty >> 12, "not the cached pages")
        PageCacheTests.requireZeroed(block, "a parsed Zero { Mmap() } block")
        opaqueFree(block)
      }
      _ = PageCacheTests.dirtyOneChunk()
      let pages = try! ParsedStack(parsing: "Mmap()")
      Region.enter(pages) {
        let block = opaqueMalloc(PageCacheTests.pageBlockByteCount)!
        PageCacheTests.requireReusedUncleared(block, dirty: dirty)
        opaqueFree(block)
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.isEmpty, "\(message)")
  }
}
