/// A block as the program sees it: the pointer it holds, the size it asked for, what the block
/// holds, and where it was allocated.
package struct _PresentedBlock {
  /// The pointer the program holds (in hook mode, after the runtime's header).
  package var pointer: UnsafeMutableRawPointer
  /// The bytes the program asked for.
  package var byteCount: Int
  /// What the block holds: a Swift class's name, "closure context", "raw block"…
  package var kind: String

  package init(pointer: UnsafeMutableRawPointer, byteCount: Int, kind: String) {
    self.pointer = pointer
    self.byteCount = byteCount
    self.kind = kind
  }
}

/// Presents a layer's block (its address and size, as the layer handed it out) in the
/// program's terms: set by the Regions runtime, which knows the header it puts in front of
/// every block it serves through the hook and can tell a Swift object's class. Nil in
/// explicit-only programs, and nil for a block the runtime did not serve: reports then give
/// the layer's own address and size, which are the program's.
///
/// Called only when building a report or a stop's message, never on the allocation path.
nonisolated(unsafe) package var _blockPresenter:
  ((UnsafeMutableRawPointer, Int) -> _PresentedBlock?)? = nil
