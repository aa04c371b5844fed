public import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The runtime's answers to the interposed malloc family (`regions_hook_routes`): every
/// decision about a hook allocation or free is made here, in Swift; the C interposer only
/// filters what must never reach Swift code (re-entry, the Swift runtime's own calls) and
/// passes the ground's calls on.
///
/// The hot path is three calls deep: the interposed function, the route here (which finds
/// the region from the thread's context, or the block's owner with one table load), and the
/// stack's specialized `_StackPaths` closure (the region's lock taken biased, the stack
/// inlined, the header and the live count kept). Anything unusual falls through to the slow
/// paths below, which take the lock in full.
@usableFromInline
enum _Hook {
  /// What the allocate route returns to send a request on to the ground.
  static var toGround: UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: 1).unsafelyUnwrapped
  }

  // MARK: Allocation

  /// An allocation the interposer found to be the program's (not a runtime library's, not
  /// inside the hook or the Swift runtime), for an entry point other than malloc: a region's
  /// block, nil (no memory), or `toGround`.
  static func allocate(_ byteCount: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
    let thread = regions_thread_context()!
    guard let core = _Bindings.bound(thread) else { return toGround }
    return serve(from: core, byteCount: byteCount, alignment: alignment, thread)
  }

  /// malloc, when the interposer could not name the thread's region: finds the binding (and
  /// caches a task's), then serves through the region's fast path.
  static func malloc(_ byteCount: Int) -> UnsafeMutableRawPointer? {
    let thread = regions_thread_context()!
    guard let core = _Bindings.bound(thread) else { return regions_ground_malloc(byteCount) }
    return core.paths._withUnsafeGuaranteedRef {
      $0.serve(UnsafeMutableRawPointer(core), byteCount, UnsafeMutableRawPointer(thread))
    }
  }

  /// malloc's slow path, the final answer: the block, the ground's, or nil with errno set.
  @usableFromInline @inline(never)
  static func mallocSlowly(
    _ core: _Core, _ byteCount: Int, _ alignment: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    finalAnswer(serve(from: core, byteCount: byteCount, alignment: alignment, thread), byteCount)
  }

  /// The stack refused on malloc's fast path: stop, or serve from the regions out.
  @usableFromInline @inline(never)
  static func mallocRefused(
    _ core: _Core, _ byteCount: Int, _ alignment: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    if core.pointee.exhaustion == .stop {
      core.withLock { _Failure.stop(core, byteCount: byteCount, alignment: alignment) }
    }
    guard let parent = core.pointee.parent else { return regions_ground_malloc(byteCount) }
    return mallocSlowly(parent, byteCount, alignment, thread)
  }

  /// What malloc returns for a route's answer: the ground's block for `toGround`, errno set for
  /// nil.
  static func finalAnswer(_ block: UnsafeMutableRawPointer?, _ byteCount: Int)
    -> UnsafeMutableRawPointer?
  {
    if block == toGround { return regions_ground_malloc(byteCount) }
    if block == nil { regions_set_errno(ENOMEM) }
    return block
  }

  /// The slow path: serves from the first open region at or outside `start`, under its lock
  /// in full. A block, nil (no memory: the interposer sets ENOMEM), or `toGround` when no
  /// region out is open.
  @inline(never)
  static func serve(
    from start: _Core, byteCount: Int, alignment: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    guard UInt(bitPattern: byteCount | alignment) < regions_reservation_size() else { return nil }
    let record = _ThreadIdentity.record(thread)
    var core = start
    while true {
      if core.pointee.isLockless && core.pointee.pending == nil,
        regions_enter_lockless(core._lock, core._isOpen, record)
      {
        let block = serveLocked(core, byteCount: byteCount, alignment: alignment, thread)
        regions_leave_lockless(record)
        if let block { return block }
        if core.pointee.exhaustion == .stop {
          core.withLock { _Failure.stop(core, byteCount: byteCount, alignment: alignment) }
        }
      } else if core.pointee.isOpen {
        let biased = regions_region_lock_acquire(core._lock, record)
        if core.pointee.isOpen {
          if core.pointee.pending != nil { _PendingFrees.drain(core, thread) }
          if let block = serveLocked(core, byteCount: byteCount, alignment: alignment, thread) {
            regions_region_lock_release(core._lock, record, biased)
            return block
          }
          if core.pointee.exhaustion == .stop {
            _Failure.stop(core, byteCount: byteCount, alignment: alignment)
          }
        }
        regions_region_lock_release(core._lock, record, biased)
      }
      guard let parent = core.pointee.parent else { return toGround }
      core = parent
    }
  }

  /// The stack's block with a header in front, through the stack's generic closure. Requires
  /// the lock (held any way; for a thread-safe stack, the thread marked inside the region) and
  /// an open region.
  static func serveLocked(
    _ core: _Core, byteCount: Int, alignment: Int,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) -> UnsafeMutableRawPointer? {
    let offset = Swift.max(_BlockHeader.size, alignment)
    let stackByteCount = _BlockHeader.stackByteCount(byteCount: byteCount, offset: offset)
    let previous = thread.pointee.state
    thread.pointee.state = UnsafeMutableRawPointer(core)
    thread.pointee.serving_byte_count = byteCount
    let base = core.paths._withUnsafeGuaranteedRef {
      $0.layer.allocateUncleared(core.pointee.stack, stackByteCount, offset)
    }
    thread.pointee.state = previous
    guard let base else { return nil }
    if !regions_in_reservation(base) {
      return servedOutsideTheReservation(core, base, byteCount, offset)
    }
    let user = base + offset
    _BlockHeader.write(user, byteCount: byteCount, alignment: offset, offset: offset)
    if !core.pointee.isLockless { _SpanTable.span(containing: user)!.pointee.liveBlocks &+= 1 }
    return user
  }

  /// A block outside the reservation: a span of the region's from the ground (GroundPages,
  /// OuterRegionPages), or a stack that does not take its memory from a page source (a stop).
  /// Requires the lock.
  @usableFromInline @inline(never)
  static func servedOutsideTheReservation(
    _ core: _Core, _ base: UnsafeMutableRawPointer, _ byteCount: Int, _ offset: Int
  ) -> UnsafeMutableRawPointer {
    let user = base + offset
    guard let span = _span(containing: user), span.pointee.core == core else {
      _Failure.foreignBlock(core, base)
    }
    _BlockHeader.write(user, byteCount: byteCount, alignment: offset, offset: offset)
    if !core.pointee.isLockless { span.pointee.liveBlocks &+= 1 }
    return user
  }

  // MARK: Deallocation

  /// Frees a pointer in the reservation or in a foreign span; false for a pointer no region
  /// owns (the ground frees it).
  @inline(__always)
  static func deallocate(_ pointer: UnsafeMutableRawPointer) -> Bool {
    let span: _SpanPointer
    if regions_in_reservation(pointer) {
      guard let found = _SpanTable.span(containing: pointer) else {
        _Failure.notInARegion(pointer, what: "free")
      }
      span = found
    } else {
      guard let found = _PageMap.span(containing: pointer) else { return false }
      span = found
    }
    free(pointer, in: span)
    return true
  }

  /// Frees a block of `span` through its region's fast path.
  @inline(__always)
  static func free(_ pointer: UnsafeMutableRawPointer, in span: _SpanPointer) {
    let core = span.pointee.core
    core.paths._withUnsafeGuaranteedRef {
      $0.free(
        UnsafeMutableRawPointer(core), pointer, UnsafeMutableRawPointer(span),
        UnsafeMutableRawPointer(regions_thread_context()!))
    }
  }

  /// A free that cannot go to the stack now: into a withheld span, or onto the region's
  /// pending list (another thread holds the lock's bias, or this thread is inside the
  /// runtime or the hook, or the region is closing).
  @usableFromInline @inline(never)
  static func freeElsewhere(
    _ pointer: UnsafeMutableRawPointer, in span: _SpanPointer,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) {
    if span.pointee.isWithheld {
      _Spans.freeWithheld(pointer, in: span)
    } else {
      if thread.pointee.state != nil || thread.pointee.runtime_depth != 0 {
        regions_counter_add(regions_counter_deferred_frees, 1)
      }
      _PendingFrees.push(pointer, in: span, "free")
    }
  }

  /// Gives a freed block (its tag already freed) back to the stack through its generic
  /// closure. Requires the lock and an open region.
  static func giveToStack(
    _ pointer: UnsafeMutableRawPointer, header: _BlockHeader, core: _Core,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) {
    // Counted out first: the stack may give the span back in `deallocate`.
    if !core.pointee.isLockless { _span(containing: pointer)!.pointee.liveBlocks &-= 1 }
    let previous = thread.pointee.state
    thread.pointee.state = UnsafeMutableRawPointer(core)
    core.paths._withUnsafeGuaranteedRef {
      $0.layer.deallocate(
        core.pointee.stack, pointer - header.offset, header.stackByteCount, header.alignment)
    }
    thread.pointee.state = previous
  }

  /// The header of a live region block, or a stop with a message for anything else inside
  /// region pages (a double free, an interior pointer).
  @inline(__always)
  static func liveHeader(
    _ pointer: UnsafeMutableRawPointer, _ span: _SpanPointer, _ what: StaticString
  ) -> _BlockHeader {
    let header = _BlockHeader.read(pointer)
    if _slowPath(header.tag != _BlockHeader.liveTag) { notLive(pointer, span, what) }
    return header
  }

  @usableFromInline @inline(never)
  static func notLive(
    _ pointer: UnsafeMutableRawPointer, _ span: _SpanPointer, _ what: StaticString
  ) -> Never {
    let tag = _BlockHeader.read(pointer).tag
    // Freed: marked so by the runtime, or poisoned whole (header included) by a Guard layer.
    let freed =
      tag == _BlockHeader.freedTag || tag == _BlockHeader.pendingTag || tag == 0xDDDD
    _Failure.badPointer(pointer, span: span, what: what, freed: freed)
  }
}
