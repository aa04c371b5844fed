import RegionMacrosSupport

extension _Hook {
  /// The usable size of a region block (exactly the size asked for), or -1 when no region
  /// owns the pointer.
  static func usableSize(_ pointer: UnsafeMutableRawPointer) -> Int {
    guard let span = _span(containing: pointer) else {
      if regions_in_reservation(pointer) {
        _Failure.notInARegion(pointer, what: "malloc_usable_size")
      }
      return -1
    }
    return liveHeader(pointer, span, "malloc_usable_size").byteCount
  }

  /// Grows or shrinks a region block. It stays in place when it fits; otherwise it moves to
  /// its owner (if still open) or to where a malloc from `caller` would go. Nil when there is
  /// no memory (the block is left as it was).
  static func reallocate(_ pointer: UnsafeMutableRawPointer, _ byteCount: Int)
    -> UnsafeMutableRawPointer?
  {
    guard let span = _span(containing: pointer) else {
      _Failure.notInARegion(pointer, what: "realloc")
    }
    let header = liveHeader(pointer, span, "realloc")
    // A size beyond the whole reservation (a negative one included) can never be served.
    guard UInt(bitPattern: byteCount) < regions_reservation_size() else { return nil }
    if byteCount <= header.byteCount { return pointer }
    let thread = regions_thread_context()!
    let owner = span.pointee.core
    var moved: UnsafeMutableRawPointer? = toGround
    if thread.pointee.state == nil && thread.pointee.runtime_depth == 0 {
      // The owner's stack if it is open; else wherever a malloc here goes.
      let start = owner.pointee.isOpen ? owner : _Bindings.bound(thread)
      if let start { moved = serve(from: start, byteCount: byteCount, alignment: 16, thread) }
    }
    if moved == toGround { moved = regions_ground_malloc(byteCount) }
    guard let moved else { return nil }
    moved.copyMemory(from: pointer, byteCount: header.byteCount)
    free(pointer, in: span)
    return moved
  }
}
