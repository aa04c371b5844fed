import RegionMacrosSupport

/// A region as the task-local binding holds it: its parent (the next region out), its core,
/// and, in the generic subclass, its stack. Bindings retain it, so an unstructured `Task {}`
/// that outlives the scope can still walk from it to the next open region out.
class _RegionNode: @unchecked Sendable {
  /// The next region out, or nil for the ground.
  let parent: _RegionNode?
  /// `parent`'s address, for walking outward without retain/release on the hook path.
  let parentBits: UnsafeRawPointer?
  let core: _Core
  let exhaustion: Region.ExhaustionPolicy
  /// The stack's type, for messages.
  let stackName: String

  init(parent: _RegionNode?, exhaustion: Region.ExhaustionPolicy, stackName: String) {
    self.parent = parent
    self.parentBits = parent.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
    self.core = .make()
    self.exhaustion = exhaustion
    self.stackName = stackName
    core.pointee.node = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
  }

  deinit {
    core.withLock { core.pointee.references -= 1 }
  }

  // MARK: The stack (overridden by _StackRegion). Called under the core's lock.

  func _stackAllocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? { nil }
  func _stackDeallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {}
  func _stackReset() {}
  func _stackReport() -> String { "" }

  // MARK: Serving blocks

  /// Serves a hook allocation: the stack's block with a header in front. Requires the lock
  /// and an open region. Returns nil when the stack refuses.
  @inline(__always)
  final func serve(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let blockAlignment = Swift.max(_BlockHeader.size, alignment)
    let offset = blockAlignment
    let (stackByteCount, overflow) = offset.addingReportingOverflow(byteCount)
    guard !overflow, byteCount >= 0, stackByteCount < 1 << 46 else { return nil }
    regions_set_serving_region(core)
    let base = _stackAllocate(byteCount: stackByteCount, alignment: blockAlignment)
    regions_set_serving_region(nil)
    guard let base else { return nil }
    guard let span = _PageMap.span(containing: base), span.pointee.core == core else {
      _foreignBlock(base)
    }
    span.pointee.liveBlocks += 1
    core.pointee.liveBlocks += 1
    let user = base + offset
    _BlockHeader.write(user, byteCount: byteCount, alignment: blockAlignment, offset: offset)
    return user
  }

  @inline(never)
  final func _foreignBlock(_ base: UnsafeMutableRawPointer) -> Never {
    fatalError(
      "Regions: the stack \(stackName) returned \(base), which is not in pages it mapped while serving this region. In hook mode a region's stack must take its memory from a page source (Mmap); System() and other sources serve explicit mode only."
    )
  }

  /// Gives a hook block back to the stack, if the region is still open. Requires the lock.
  @inline(__always)
  final func unserve(_ user: UnsafeMutableRawPointer, header: _BlockHeader) {
    regions_set_serving_region(core)
    _stackDeallocate(user - header.offset, byteCount: header.stackByteCount, alignment: header.alignment)
    regions_set_serving_region(nil)
  }

  /// Closes the region: no more allocations, the stack reset. Blocks still live keep their
  /// spans from the OS until they are freed.
  final func close() {
    core.withLock {
      core.pointee.isOpen = false
      core.pointee.node = nil
      regions_set_serving_region(core)
      _stackReset()
      regions_set_serving_region(nil)
    }
    regions_hook_open_regions_add(-1)
  }
}

/// A region over a concrete stack: type erasure happens here, once.
final class _StackRegion<Stack: Layer>: _RegionNode, @unchecked Sendable {
  /// The stack lives in ground memory, reached through a pointer: no exclusivity checks on
  /// the hook path, and a stable address for layers that are called concurrently.
  let stack: UnsafeMutablePointer<Stack>

  init(stack: consuming Stack, parent: _RegionNode?, exhaustion: Region.ExhaustionPolicy) {
    let raw = regions_ground_aligned(
      Swift.max(MemoryLayout<Stack>.alignment, 16), Swift.max(MemoryLayout<Stack>.size, 1))!
    self.stack = raw.bindMemory(to: Stack.self, capacity: 1)
    self.stack.initialize(to: stack)
    super.init(parent: parent, exhaustion: exhaustion, stackName: String(describing: Stack.self))
    regions_hook_open_regions_add(1)
  }

  /// Moves the stack's final state out (after `close`).
  func takeStack() -> Stack {
    let final = stack.move()
    regions_ground_free(stack)
    return final
  }

  override func _stackAllocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    stack.pointee.allocate(byteCount: byteCount, alignment: alignment)
  }

  override func _stackDeallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    stack.pointee.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  override func _stackReset() { stack.pointee.reset() }

  override func _stackReport() -> String { stack.pointee.report }
}
