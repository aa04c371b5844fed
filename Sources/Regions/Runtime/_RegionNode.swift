import RegionMacrosSupport

/// A region as the task-local binding holds it: its parent (the next region out), its core
/// and its stack (type-erased behind `_StackPaths`). Bindings retain it, so an
/// unstructured `Task {}` that outlives the scope can still walk from it to the next open
/// region out.
@usableFromInline
final class _RegionNode: @unchecked Sendable {
  /// The next region out, or nil for the ground.
  let parent: _RegionNode?
  let core: _Core
  /// The stack's storage (ground memory: a stable address, no exclusivity checks).
  @usableFromInline let stack: UnsafeMutableRawPointer
  let paths: _StackPaths
  /// The stack's type, for `Region.inspect`.
  let stackType: ObjectIdentifier

  /// A region over `stack` (storage from `_stackStorage`, initialized), bound inside the
  /// current region (its parent).
  @usableFromInline
  init(
    stack: UnsafeMutableRawPointer, paths: _StackPaths,
    exhaustion: Region.ExhaustionPolicy, stackName: String
  ) {
    _Runtime.start()
    let parent = _Bindings.currentNode
    self.parent = parent
    self.core = .make(
      parent: parent?.core, stack: stack, paths: paths, exhaustion: exhaustion,
      stackName: stackName)
    self.stack = stack
    self.paths = paths
    self.stackType = paths.stackType
    core.pointee.node = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    // A cached task binding may name a region whose core has since been freed and whose
    // address this one reuses: cached bindings made before now are not to be trusted.
    regions_binding_epoch_bump()
    regions_hook_open_regions_add(1)
  }

  deinit {
    core.release()
  }

  var stackName: String { core.pointee.stackName }

  /// Ground memory for a stack of `byteCount` bytes aligned to `alignment`.
  @usableFromInline
  static func _stackStorage(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
    guard let raw = regions_ground_aligned(Swift.max(alignment, 16), Swift.max(byteCount, 1))
    else {
      fatalError("Regions: the ground allocator has no memory for a region's stack")
    }
    return raw
  }

  /// Frees a stack's storage (after its value was moved out).
  @usableFromInline
  static func _freeStackStorage(_ storage: UnsafeMutableRawPointer) {
    regions_ground_free(storage)
  }

  func _stackReport() -> String { paths.layer.report(stack) }

  /// Closes the region: no more allocations; blocks freed by other threads go to the stack,
  /// then the stack is reset. Pages that still hold a live block are withheld until it is
  /// freed; the rest go back at once.
  @usableFromInline
  func close() {
    let thread = regions_thread_context()!
    core.withLock {
      if core.pointee.isForked { return }
      core.pointee.closer = thread.pointee.record
      defer { core.pointee.closer = nil }
      core.pointee.isOpen = false
      // A thread-safe stack is called without the lock: wait for the calls in flight.
      if core.pointee.isLockless {
        regions_wait_until_no_thread_inside(core._lock, thread.pointee.record)
      }
      _PendingFrees.drainForClose(core, thread)
      let previous = thread.pointee.state
      thread.pointee.state = UnsafeMutableRawPointer(core)
      paths.layer.reset(stack)
      _Spans.giveBackRemaining(core)
      thread.pointee.state = previous
      core.pointee.node = nil
      core.pointee.escapingError = nil
    }
    if !core.pointee.isForked { regions_hook_open_regions_add(-1) }
  }
}
