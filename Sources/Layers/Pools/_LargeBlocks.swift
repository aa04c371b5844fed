/// Blocks a pool hands out straight from its parent because they are too large for its
/// classes or slabs (FreeList, SizeClasses, Buddy): booked in a table so that `reset` gives
/// back the ones nobody freed. Both paths are out of line: they are the pools' slow paths.
@usableFromInline
internal struct _LargeBlocks {
  @usableFromInline internal var _table = _BlockTable()

  @inlinable init() {}

  /// Large blocks live.
  @inlinable var count: Int { _table.count }

  /// A block of the parent, booked; nil when the parent (or the table's growth) fails.
  @inlinable @inline(never)
  mutating func allocate<Parent: Layer>(
    byteCount: Int, alignment: Int, from parent: inout Parent
  ) -> UnsafeMutableRawPointer? {
    _table.allocateBooked(byteCount: byteCount, alignment: alignment, cleared: false, from: &parent)
  }

  /// Gives a large block back to the parent; stops the program, naming `layer`, when
  /// `pointer` is not a live large block. (`layer` is a closure so that the layer's type, whose
  /// metadata may have to be instantiated, is only needed on the way to the stop.)
  @inlinable @inline(never)
  mutating func deallocate<Parent: Layer>(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int, to parent: inout Parent,
    layer: () -> Any.Type
  ) {
    if !_table.deallocateBooked(pointer, byteCount: byteCount, alignment: alignment, to: &parent) {
      _BlockTable._notALargeBlock(pointer, byteCount: byteCount, layer: layer())
    }
  }

  /// Gives every large block and the table's storage back to the parent.
  @inlinable
  mutating func deallocateAll<Parent: Layer>(to parent: inout Parent) {
    _table.deallocateAll(to: &parent)
  }
}
