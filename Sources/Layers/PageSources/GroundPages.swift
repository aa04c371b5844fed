/// A source layer whose memory comes from the *ground*: the process allocator outside every
/// region (glibc, or a preloaded jemalloc / mimalloc), skipping every enclosing region
/// (Myrddin region's `ground`).
///
/// Unlike ``ProcessAllocator``, it works as the source of a region's stack in hook mode: it hands out
/// page-aligned, page-multiple blocks that the runtime records as the region's own pages, so
/// the region's blocks can be traced back from their address. Put a carving layer (``Chunk``,
/// ``Bonwick``) above it: `Chunk(64 * 1024) { GroundPages() }`.
///
/// - Complexity: one `posix_memalign` per allocate, one `free` per deallocate.
/// - Safety: pages given back while a block in them is live are withheld, as with ``Mmap``.
/// - Failure: returns nil when the ground allocator does.
/// - Bad input: a negative `byteCount` or an alignment that is not a power of two stops the
///   program with a message. `byteCount` 0 takes one page.
public struct GroundPages: Layer {
  /// A layer taking its memory from the ground allocator.
  public init() {}

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _OuterPages.acquire(
      byteCount: Mmap._rounded(byteCount), alignment: alignment, groundOnly: true)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _OuterPages.release(pointer, byteCount: Mmap._rounded(byteCount))
  }

  /// GroundPages holds nothing of its own.
  @inlinable
  public mutating func reset() {}

  public func appendReport(to lines: inout [String]) {
    lines.append("GroundPages: page blocks from the process allocator")
  }
}
