/// A source layer whose memory comes from the *enclosing region*: the region outside the one
/// this stack serves (Myrddin region's `pipe`).
///
/// Use it at the bottom of an inner region's stack to carve its blocks out of the outer
/// region's memory, e.g. `Stats { Chunk(64 * 1024) { OuterRegionPages() } }`: the inner region counts
/// its own requests, the outer one sees a few large blocks. With no region out (or outside
/// every region, in explicit mode) the blocks come from the ground.
///
/// - Granularity: whole pages. Requests are rounded up to the page size and aligned to at
///   least a page, because the runtime records the pages as the inner region's own so that
///   its blocks can be traced back from their address. Put a carving layer (``Chunk``,
///   ``Bonwick``) above it.
/// - Complexity: one allocation from the enclosing region's stack per allocate (under its
///   lock), one deallocation per deallocate.
/// - Safety: pages given back while a block in them is live are withheld, as with ``Mmap``;
///   the enclosing region sees its block live until then.
/// - Failure: returns nil when the enclosing region's stack does (under its
///   `onExhaustion` policy) or the ground has no memory.
/// - Bad input: a negative `byteCount` or an alignment that is not a power of two stops the
///   program with a message. `byteCount` 0 takes one page.
public struct OuterRegionPages: Layer {
  /// A layer taking its memory from the enclosing region.
  public init() {}

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _OuterPages.acquire(
      byteCount: Mmap._rounded(byteCount), alignment: alignment, groundOnly: false)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _OuterPages.release(pointer, byteCount: Mmap._rounded(byteCount))
  }

  /// OuterRegionPages holds nothing of its own.
  @inlinable
  public mutating func reset() {}

  public func appendReport(to lines: inout [String]) {
    lines.append("OuterRegionPages: blocks from the enclosing region")
  }
}
