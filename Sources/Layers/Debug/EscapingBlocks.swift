/// A block a layer handed out: its address and size.
package struct _BlockExtent {
  package var address: UInt
  package var byteCount: Int

  package init(address: UInt, byteCount: Int) {
    self.address = address
    self.byteCount = byteCount
  }
}

/// Which of the given live blocks a value leaving the region still reaches (an error thrown
/// out of the scope, and what it references): set by the Regions runtime, for the region being
/// closed on this thread; nil when nothing leaves it. `Check` does not report such blocks as
/// leaks: they are the thrown error's, and the runtime keeps their memory until it is freed.
///
/// Called only at a region's close, never on the allocation path.
nonisolated(unsafe) package var _blocksReachedByEscapingValues: (([_BlockExtent]) -> [Bool]?)? = nil
