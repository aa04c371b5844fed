/// Books every block it hands out, so that `reset` can give back to the parent every block
/// nobody deallocated.
///
/// Put it under a layer that may forget blocks (a third-party layer, or code that drops
/// pointers) to make `reset` leave nothing behind. Deallocated blocks are unbooked and go
/// straight to the parent.
///
/// - Book: a hash table of live blocks (16 bytes per entry, load ≤ ½) whose storage comes
///   from the parent, never from malloc; it grows by doubling.
/// - Complexity: O(1) expected allocate and deallocate; `reset` O(capacity of the book).
/// - Failure: returns nil when the parent refuses the block or room for the book.
/// - Bad input: deallocating a block Batch did not hand out stops the program with a message.
public struct Batch<Parent: Layer>: WrappingLayer {
  public var parent: Parent
  @usableFromInline internal var _book = _BlockTable()

  /// Blocks handed out and not yet deallocated.
  public var liveBlocks: Int { _book.count }

  /// A layer that books every block `parent` hands out through it.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _book.allocateBooked(
      byteCount: byteCount, alignment: alignment, cleared: false, from: &parent)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if _slowPath(_book.remove(pointer) == nil) { _unbooked(pointer) }
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  @usableFromInline @inline(never)
  internal func _unbooked(_ pointer: UnsafeMutableRawPointer) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer), which it did not hand out (or which was already deallocated)"
    )
  }

  /// Deallocates every booked block to the parent, gives the book back, then resets the parent.
  @inlinable
  public mutating func reset() {
    _book.deallocateAll(to: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append("Batch: \(_book.count) blocks booked")
    parent.appendReport(to: &lines)
  }
}
