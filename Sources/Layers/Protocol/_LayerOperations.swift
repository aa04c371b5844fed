/// A layer type's operations on a value of it in memory, as closures specialized for the
/// type: the one type erasure of a stack. The runtime keeps one per region
/// (`_StackPaths.layer`, built where the client's module specializes it), and each layer of a
/// parsed stack has one (`_ErasedLayer`).
@usableFromInline
package final class _LayerOperations {
  @usableFromInline package let allocate:
    (UnsafeMutableRawPointer, Int, Int) -> UnsafeMutableRawPointer?
  @usableFromInline package let allocateUncleared:
    (UnsafeMutableRawPointer, Int, Int) -> UnsafeMutableRawPointer?
  @usableFromInline package let deallocate:
    (UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int, Int) -> Void
  @usableFromInline package let reset: (UnsafeMutableRawPointer) -> Void
  @usableFromInline package let appendReport: (UnsafeMutableRawPointer, inout [String]) -> Void
  @usableFromInline package let appendReportObjects:
    (UnsafeMutableRawPointer, inout [String]) -> Void
  @usableFromInline package let deinitialize: (UnsafeMutableRawPointer) -> Void
  @usableFromInline package let isThreadSafe: Bool

  @inlinable
  package init<L: Layer>(_: L.Type) {
    allocate = { storage, byteCount, alignment in
      storage.assumingMemoryBound(to: L.self).pointee.allocate(
        byteCount: byteCount, alignment: alignment)
    }
    allocateUncleared = { storage, byteCount, alignment in
      storage.assumingMemoryBound(to: L.self).pointee.allocateUncleared(
        byteCount: byteCount, alignment: alignment)
    }
    deallocate = { storage, block, byteCount, alignment in
      storage.assumingMemoryBound(to: L.self).pointee.deallocate(
        block, byteCount: byteCount, alignment: alignment)
    }
    reset = { storage in storage.assumingMemoryBound(to: L.self).pointee.reset() }
    appendReport = { storage, lines in
      storage.assumingMemoryBound(to: L.self).pointee.appendReport(to: &lines)
    }
    appendReportObjects = { storage, objects in
      storage.assumingMemoryBound(to: L.self).pointee.appendReportObjects(to: &objects)
    }
    deinitialize = { storage in _ = storage.assumingMemoryBound(to: L.self).deinitialize(count: 1) }
    isThreadSafe = L.isThreadSafe
  }

  /// The report of the layer at `storage` (``Layer/report``).
  package func report(_ storage: UnsafeMutableRawPointer) -> String {
    _ErasedLayer(storage, self).report
  }

  /// The JSON report of the layer at `storage` (``Layer/reportJSON``).
  package func reportJSON(_ storage: UnsafeMutableRawPointer) -> String {
    _ErasedLayer(storage, self).reportJSON
  }
}
