import RegionMacrosSupport

/// A region as the task-local binding holds it: its parent (the next region out), its core
/// and its stack (type-erased behind `_StackOperations`). Bindings retain it, so an unstructured `Task {}`
/// that outlives the scope can still walk from it to the next open region out.
@usableFromInline
final class _RegionNode: @unchecked Sendable {
  /// The next region out, or nil for the ground.
  let parent: _RegionNode?
  /// `parent`'s address, for walking outward without retain/release on the hook path.
  let parentBits: UnsafeRawPointer?
  let core: _Core
  let exhaustion: Region.ExhaustionPolicy
  /// The stack's type, for messages.
  let stackName: String
  /// The stack's storage (ground memory: a stable address, no exclusivity checks).
  @usableFromInline let stack: UnsafeMutableRawPointer
  let operations: _StackOperations
  /// The stack's type, for `Region.inspect`.
  let stackType: ObjectIdentifier

  /// A region over `stack` (storage from `_stackStorage`, initialized), bound inside the
  /// current region (its parent).
  @usableFromInline
  init(
    stack: UnsafeMutableRawPointer, operations: _StackOperations,
    exhaustion: Region.ExhaustionPolicy, stackName: String
  ) {
    _Hook.start()
    let parent = Region._current
    self.parent = parent
    self.parentBits = parent.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
    self.core = .make()
    self.exhaustion = exhaustion
    self.stackName = stackName
    self.stack = stack
    self.operations = operations
    self.stackType = operations.stackType
    core.pointee.node = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    regions_hook_open_regions_add(1)
  }

  deinit {
    core.withLock { core.pointee.references -= 1 }
  }

  /// Ground memory for a stack of `byteCount` bytes aligned to `alignment`.
  @usableFromInline
  static func _stackStorage(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
    guard let raw = regions_ground_aligned(Swift.max(alignment, 16), Swift.max(byteCount, 1)) else {
      fatalError("Regions: the ground allocator has no memory for a region's stack")
    }
    return raw
  }

  /// Frees a stack's storage (after its value was moved out).
  @usableFromInline
  static func _freeStackStorage(_ storage: UnsafeMutableRawPointer) {
    regions_ground_free(storage)
  }

  @inline(__always)
  func _stackAllocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    operations.allocate(stack, byteCount, alignment)
  }

  @inline(__always)
  func _stackDeallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    operations.deallocate(stack, pointer, byteCount, alignment)
  }

  func _stackReport() -> String { operations.report(stack) }

  // MARK: Serving blocks

  /// Serves a hook allocation: the stack's block with a header in front. Requires the lock
  /// and an open region. Returns nil when the stack refuses.
  @inline(__always)
  func serve(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let blockAlignment = Swift.max(_BlockHeader.size, alignment)
    let offset = blockAlignment
    // Unsigned compares: negative sizes (huge size_t values) fail them too, and the sum of
    // two numbers below 2^46 cannot overflow.
    guard UInt(bitPattern: byteCount) < 1 << 46, UInt(bitPattern: offset) < 1 << 46 else {
      return nil
    }
    let stackByteCount = offset &+ byteCount
    let previousServing = regions_serving_region()
    regions_set_serving_region(core)
    let base = _stackAllocate(byteCount: stackByteCount, alignment: blockAlignment)
    regions_set_serving_region(previousServing)
    guard let base else { return nil }
    let span: _SpanPointer
    if let last = core.pointee.lastSpan, base >= last.pointee.base,
      base < last.pointee.base + last.pointee.byteCount
    {
      span = last
    } else {
      guard let found = _PageMap.span(containing: base), found.pointee.core == core else {
        _foreignBlock(base)
      }
      span = found
      core.pointee.lastSpan = found
    }
    span.pointee.liveBlocks &+= 1
    core.pointee.liveBlocks &+= 1
    let user = base + offset
    _BlockHeader.write(user, byteCount: byteCount, alignment: blockAlignment, offset: offset)
    return user
  }

  @inline(never)
  func _foreignBlock(_ base: UnsafeMutableRawPointer) -> Never {
    fatalError(
      "Regions: the stack \(stackName) returned \(base), which is not in pages it mapped while serving this region. In hook mode a region's stack must take its memory from a page source (Mmap); ProcessAllocator() and other sources serve explicit mode only."
    )
  }

  /// Gives a hook block back to the stack, if the region is still open. Requires the lock.
  @inline(__always)
  func unserve(_ user: UnsafeMutableRawPointer, header: _BlockHeader) {
    let previousServing = regions_serving_region()
    regions_set_serving_region(core)
    _stackDeallocate(
      user - header.offset, byteCount: header.stackByteCount, alignment: header.alignment)
    regions_set_serving_region(previousServing)
  }

  /// Closes the region: no more allocations, the stack reset. Blocks still live keep their
  /// spans from the OS until they are freed.
  @usableFromInline
  func close() {
    core.withLock {
      core.pointee.isOpen = false
      core.pointee.node = nil
      let previousServing = regions_serving_region()
      regions_set_serving_region(core)
      operations.reset(stack)
      regions_set_serving_region(previousServing)
    }
    regions_hook_open_regions_add(-1)
  }
}
