public import RegionMacrosSupport

/// A stack's operations, specialized for its concrete type: the hook's two fast paths here,
/// the stack's own operations in `layer` (`_LayerOperations`, the erasure parsed stacks use
/// too). Built in `Region.enter` (inlinable, so the client's module specializes it for the
/// stack), each closure inlines the stack's whole path; the runtime calls them through the
/// closure, with no witness-table dispatch below. A region's core keeps its paths alive (after
/// the region object is gone, frees into withheld spans still reach the core).
///
/// `serve` and `free` are the hook's fast paths, which the interposer calls directly (through
/// the core's head): the region's lock taken biased, the stack called, the block's header and
/// the live count kept, in one function. Whenever anything is unusual they hand the call to
/// the runtime's slow paths (`_Hook`), so each gives the final answer.
@usableFromInline
final class _StackPaths {
  /// malloc in the region: the program's pointer, a block from a region out or the ground,
  /// or nil with errno set. Arguments: the core, the size, the thread's context. (Other
  /// entry points, with other alignments, take the slow path.)
  @usableFromInline let serve:
    (UnsafeMutableRawPointer, Int, UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?
  /// free of a block in one of the region's spans. Arguments: the core, the pointer, its span,
  /// the thread's context.
  @usableFromInline let free:
    (
      UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer,
      UnsafeMutableRawPointer
    )
      -> Void
  /// The stack's own operations (allocate, deallocate, reset, reports), for the slow paths.
  @usableFromInline let layer: _LayerOperations
  @usableFromInline let stackType: ObjectIdentifier

  @inlinable
  init<Stack: Layer>(_ type: Stack.Type) {
    serve = { core, byteCount, thread in
      _StackPaths.serve(
        Stack.self, core.assumingMemoryBound(to: _RegionCore.self), byteCount,
        thread.assumingMemoryBound(to: regions_thread_t.self))
    }
    free = { core, pointer, span, thread in
      _StackPaths.free(
        Stack.self, core.assumingMemoryBound(to: _RegionCore.self), pointer, span,
        thread.assumingMemoryBound(to: regions_thread_t.self))
    }
    layer = _LayerOperations(Stack.self)
    stackType = ObjectIdentifier(Stack.self)
  }

  @inlinable @inline(__always)
  static func serve<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ byteCount: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    if Stack.isThreadSafe && core.pointee.isLockless {
      return serveLockless(Stack.self, core, byteCount, thread)
    }
    guard UInt(bitPattern: byteCount) < regions_reservation_size(),
      let record = thread.pointee.record, regions_region_lock_try_biased(core._lock, record)
    else { return _Hook.mallocSlowly(core, byteCount, 16, thread) }
    guard _fastPath(core.pointee.isOpen && core.pointee.pending == nil) else {
      regions_region_lock_release(core._lock, record, true)
      return _Hook.mallocSlowly(core, byteCount, 16, thread)
    }
    // malloc's alignment: the header is the block's first 16 bytes. First the stack's inline
    // path: nothing in it can allocate or map pages, so the thread is not marked as inside the
    // hook, and this function calls nothing before it returns (it saves no registers).
    let stack = core.pointee.stack.assumingMemoryBound(to: Stack.self)
    let quick = stack.pointee.allocateWithoutCalls(
      byteCount: _BlockHeader.size &+ Swift.max(byteCount, _BlockHeader.minimumTail),
      alignment: _BlockHeader.size)
    if let quick, _fastPath(regions_in_reservation(quick)) {
      return served(core, quick, byteCount, record, counted: true)
    }
    return serveCalling(Stack.self, core, byteCount, thread, record, quick)
  }

  /// The rest of `serve` (and of `serveLockless`) when the stack's inline path had no block
  /// (or gave one outside the reservation, `quick`): the stack's full `allocate`, with the
  /// thread marked as inside the hook for it. The region's lock is held (or, lockless, the
  /// thread is inside the region: both end with the same store).
  @inlinable @inline(never)
  static func serveCalling<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ byteCount: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>,
    _ record: UnsafeMutablePointer<regions_thread_record>, _ quick: UnsafeMutableRawPointer?
  ) -> UnsafeMutableRawPointer? {
    let offset = _BlockHeader.size
    var base = quick
    if base == nil {
      // The thread's state is nil on the way in (the interposer sends a thread inside the
      // hook to the ground).
      thread.pointee.state = UnsafeMutableRawPointer(core)
      thread.pointee.serving_byte_count = byteCount
      base = core.pointee.stack.assumingMemoryBound(to: Stack.self).pointee.allocateUncleared(
        byteCount: offset &+ Swift.max(byteCount, _BlockHeader.minimumTail), alignment: offset)
      thread.pointee.state = nil
    }
    guard let base, regions_in_reservation(base) else {
      let user = base.map { _Hook.servedOutsideTheReservation(core, $0, byteCount, offset) }
      regions_region_lock_release(core._lock, record, true)
      return user ?? _Hook.mallocRefused(core, byteCount, 16, thread)
    }
    return served(core, base, byteCount, record, counted: !core.pointee.isLockless)
  }

  /// The end of serving a block of the stack's in the reservation, at `base`: its header, the
  /// span's live count (`counted`: a lockless region keeps none), the lock released (the same store
  /// takes the thread out of a lockless region). Returns the program's pointer.
  @inlinable @inline(__always)
  static func served(
    _ core: _Core, _ base: UnsafeMutableRawPointer, _ byteCount: Int,
    _ record: UnsafeMutablePointer<regions_thread_record>, counted: Bool
  ) -> UnsafeMutableRawPointer {
    // The block's span, looked up before the header's stores (so the reservation's base is not
    // loaded again). A block lies in one span, the one `free` finds from the program's pointer.
    let span = regions_span_of(base)
    let user = base + _BlockHeader.size
    _BlockHeader.write(
      user, byteCount: byteCount, alignment: _BlockHeader.size, offset: _BlockHeader.size)
    if counted {
      span.unsafelyUnwrapped.assumingMemoryBound(to: _Span.self).pointee.liveBlocks &+= 1
    }
    regions_region_lock_release(core._lock, record, true)
    return user
  }

  @inlinable @inline(__always)
  static func free<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ pointer: UnsafeMutableRawPointer,
    _ spanAddress: UnsafeMutableRawPointer, _ thread: UnsafeMutablePointer<regions_thread_t>
  ) {
    let span = spanAddress.assumingMemoryBound(to: _Span.self)
    let packed = pointer.load(fromByteOffset: -8, as: UInt.self)
    guard _fastPath(packed >> 48 == _BlockHeader.liveTag) else {
      _Hook.notLive(pointer, span, "free")
    }
    if Stack.isThreadSafe && core.pointee.isLockless {
      return freeLockless(Stack.self, core, pointer, packed, span, thread)
    }
    guard _fastPath(thread.pointee.state == nil && thread.pointee.runtime_depth == 0),
      !span.pointee.isWithheld, let record = thread.pointee.record,
      regions_region_lock_try_biased(core._lock, record)
    else { return _Hook.freeElsewhere(pointer, in: span, thread) }
    guard _fastPath(core.pointee.isOpen) else {
      regions_region_lock_release(core._lock, record, true)
      return _Hook.freeElsewhere(pointer, in: span, thread)
    }
    freed(Stack.self, core, pointer, packed, span, thread, record, counted: true)
  }

  /// The end of freeing a live block of the region's, the lock held (or the thread inside a
  /// lockless region): the tag set to freed, the block given to the stack's inline path or
  /// else its full `deallocate`, the live count (`counted`), the lock released.
  @inlinable @inline(__always)
  static func freed<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ pointer: UnsafeMutableRawPointer, _ packed: UInt,
    _ span: _SpanPointer, _ thread: UnsafeMutablePointer<regions_thread_t>,
    _ record: UnsafeMutablePointer<regions_thread_record>, counted: Bool
  ) {
    _BlockHeader.setTag(pointer, packed: packed, _BlockHeader.freedTag)
    let byteCount = pointer.load(fromByteOffset: -16, as: Int.self)
    let offset = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
    let alignment = 1 &<< Int(truncatingIfNeeded: (packed &>> 32) & 63)
    let stackByteCount = offset &+ Swift.max(byteCount, _BlockHeader.minimumTail)
    guard
      core.pointee.stack.assumingMemoryBound(to: Stack.self).pointee.deallocateWithoutCalls(
        pointer - offset, byteCount: stackByteCount, alignment: alignment)
    else {
      return freeCalling(
        Stack.self, core, pointer - offset, stackByteCount, alignment, span, thread, record)
    }
    if counted { span.pointee.liveBlocks &-= 1 }
    regions_region_lock_release(core._lock, record, true)
  }

  /// The rest of `free` (and of `freeLockless`) when the stack's inline path could not take
  /// the block back: its full `deallocate`, with the thread marked as inside the hook. The
  /// region's lock is held (or, lockless, the thread is inside the region).
  @inlinable @inline(never)
  static func freeCalling<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ base: UnsafeMutableRawPointer, _ stackByteCount: Int,
    _ alignment: Int, _ span: _SpanPointer, _ thread: UnsafeMutablePointer<regions_thread_t>,
    _ record: UnsafeMutablePointer<regions_thread_record>
  ) {
    // Counted out first: the stack may give the span back in `deallocate`, and the span's
    // count decides whether it goes at once.
    if !core.pointee.isLockless { span.pointee.liveBlocks &-= 1 }
    thread.pointee.state = UnsafeMutableRawPointer(core)  // nil before: checked in `free`
    core.pointee.stack.assumingMemoryBound(to: Stack.self).pointee.deallocate(
      base, byteCount: stackByteCount, alignment: alignment)
    thread.pointee.state = nil
    regions_region_lock_release(core._lock, record, true)
  }

  // MARK: Thread-safe stacks: no region lock

  // A stack that is thread-safe (PerThread, Locked) is called without the region's lock: the
  // thread only marks itself inside the region (one store, then the open check), so that the
  // region's close can wait for calls in flight (regions_wait_until_no_thread_inside). The
  // region keeps no live count for such a stack: its close scans the spans it gives back.

  @inlinable @inline(__always)
  static func serveLockless<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ byteCount: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    guard UInt(bitPattern: byteCount) < regions_reservation_size(),
      let record = thread.pointee.record,
      regions_enter_lockless(core._lock, core._isOpen, record)
    else { return _Hook.mallocSlowly(core, byteCount, 16, thread) }
    // The stack's inline path first, with the thread not marked (as in `serve`).
    let quick = core.pointee.stack.assumingMemoryBound(to: Stack.self).pointee
      .allocateWithoutCalls(
        byteCount: _BlockHeader.size &+ Swift.max(byteCount, _BlockHeader.minimumTail),
        alignment: _BlockHeader.size)
    if let quick, _fastPath(regions_in_reservation(quick)) {
      return served(core, quick, byteCount, record, counted: false)
    }
    return serveCalling(Stack.self, core, byteCount, thread, record, quick)
  }

  @inlinable @inline(__always)
  static func freeLockless<Stack: Layer>(
    _: Stack.Type, _ core: _Core, _ pointer: UnsafeMutableRawPointer, _ packed: UInt,
    _ span: _SpanPointer, _ thread: UnsafeMutablePointer<regions_thread_t>
  ) {
    guard _fastPath(thread.pointee.state == nil && thread.pointee.runtime_depth == 0),
      !span.pointee.isWithheld, let record = thread.pointee.record,
      regions_enter_lockless(core._lock, core._isOpen, record)
    else { return _Hook.freeElsewhere(pointer, in: span, thread) }
    freed(Stack.self, core, pointer, packed, span, thread, record, counted: false)
  }
}
