/// One layer of a stack built at run time (``ParsedStack``), behind a type-erased handle: the
/// concrete layer lives in memory of its own, and its operations are closures specialized for
/// its type (`_LayerOperations`). Wrapping layers are instantiated over `_ErasedLayer` (`Stats<_ErasedLayer>`), so
/// each level of a parsed stack costs one indirect call; nothing on the allocation path
/// allocates or retains.
///
/// A handle does not own its layer: the ``ParsedStack`` that built it destroys it.
struct _ErasedLayer: Layer {
  let storage: UnsafeMutableRawPointer
  let operations: Unmanaged<_LayerOperations>

  /// A handle on the layer at `storage` (not retaining `operations`: for a report).
  init(_ storage: UnsafeMutableRawPointer, _ operations: _LayerOperations) {
    self.storage = storage
    self.operations = .passUnretained(operations)
  }

  /// Moves `layer` into memory of its own.
  init<L: Layer>(_ layer: L) {
    storage = UnsafeMutableRawPointer.allocate(
      byteCount: Swift.max(MemoryLayout<L>.size, 1),
      alignment: Swift.max(MemoryLayout<L>.alignment, 16))
    storage.initializeMemory(as: L.self, to: layer)
    operations = .passRetained(_LayerOperations(L.self))
  }

  @inline(__always)
  func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    operations._withUnsafeGuaranteedRef { $0.allocate(storage, byteCount, alignment) }
  }

  @inline(__always)
  func allocateUncleared(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    operations._withUnsafeGuaranteedRef { $0.allocateUncleared(storage, byteCount, alignment) }
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

  /// Deinitializes and frees the layer (its parents are destroyed by their own handles).
  func destroy() {
    operations._withUnsafeGuaranteedRef { $0.deinitialize(storage) }
    storage.deallocate()
    operations.release()
  }
}

/// The handles a parsed stack's layers were built into, destroyed with the last copy of the
/// stack.
final class _BuiltLayers {
  var layers: [_ErasedLayer] = []
  deinit { for layer in layers { layer.destroy() } }
}
