/// One layer of a stack built at run time (``ParsedStack``), behind a type-erased handle: the
/// concrete layer lives in memory of its own, and its operations are closures specialized for
/// its type. Wrapping layers are instantiated over `_ErasedLayer` (`Stats<_ErasedLayer>`), so
/// each level of a parsed stack costs one indirect call; nothing on the allocation path
/// allocates or retains.
///
/// A handle does not own its layer: the ``ParsedStack`` that built it destroys it.
struct _ErasedLayer: Layer {
  let storage: UnsafeMutableRawPointer
  let operations: Unmanaged<_ErasedOperations>

  /// Moves `layer` into memory of its own.
  init<L: Layer>(_ layer: L) {
    storage = UnsafeMutableRawPointer.allocate(
      byteCount: Swift.max(MemoryLayout<L>.size, 1),
      alignment: Swift.max(MemoryLayout<L>.alignment, 16))
    storage.initializeMemory(as: L.self, to: layer)
    operations = .passRetained(_ErasedOperations(L.self))
  }

  @inline(__always)
  func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    operations._withUnsafeGuaranteedRef { $0.allocate(storage, byteCount, alignment) }
  }

  @inline(__always)
  func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    operations._withUnsafeGuaranteedRef { $0.deallocate(storage, pointer, byteCount, alignment) }
  }

  func reset() {
    operations._withUnsafeGuaranteedRef { $0.reset(storage) }
  }

  func appendReport(to lines: inout [String]) {
    operations._withUnsafeGuaranteedRef { $0.appendReport(storage, &lines) }
  }

  func appendReportObjects(to objects: inout [String]) {
    operations._withUnsafeGuaranteedRef { $0.appendReportObjects(storage, &objects) }
  }

  /// Whether the concrete layer is thread-safe (the static answer of its type).
  var layerIsThreadSafe: Bool { operations._withUnsafeGuaranteedRef { $0.isThreadSafe } }

  /// Whether the concrete layer's blocks come back zero-filled.
  var layerReturnsZeroedMemory: Bool {
    operations._withUnsafeGuaranteedRef { $0.returnsZeroedMemory }
  }

  /// Deinitializes and frees the layer (its parents are destroyed by their own handles).
  func destroy() {
    operations._withUnsafeGuaranteedRef { $0.deinitialize(storage) }
    storage.deallocate()
    operations.release()
  }
}

/// A layer type's operations on its value in memory.
final class _ErasedOperations {
  let allocate: (UnsafeMutableRawPointer, Int, Int) -> UnsafeMutableRawPointer?
  let deallocate: (UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int, Int) -> Void
  let reset: (UnsafeMutableRawPointer) -> Void
  let appendReport: (UnsafeMutableRawPointer, inout [String]) -> Void
  let appendReportObjects: (UnsafeMutableRawPointer, inout [String]) -> Void
  let deinitialize: (UnsafeMutableRawPointer) -> Void
  let isThreadSafe: Bool
  let returnsZeroedMemory: Bool

  init<L: Layer>(_: L.Type) {
    allocate = { storage, byteCount, alignment in
      storage.assumingMemoryBound(to: L.self).pointee.allocate(
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
    returnsZeroedMemory = L.returnsZeroedMemory
  }
}
