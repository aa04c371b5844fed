import RegionMacrosSupport

/// Frees that wait for a region's lock holder: from threads that do not hold the lock's bias
/// (a block freed on another thread than the one allocating), and frees that arrive while the
/// thread is inside the Swift runtime (which may hold its own locks: calling the stack there
/// could need the runtime again and deadlock) or inside the hook itself.
///
/// The freeing thread claims the block (its header goes from live to pending, atomically, so
/// a second free of it is caught), links it through its first word and pushes it on the
/// region's list with one compare-and-swap. The lock holder takes the whole list with one
/// exchange before its next allocation and gives the blocks to the stack: one atomic per
/// block for the freeing thread, one per batch for the owner, and no lock handed between them
/// (snmalloc's remote deallocation, mimalloc's thread-delayed free). Closing the region
/// takes the list for the last time and leaves `closed` in its place; a free that finds it
/// there waits for the close to finish and frees into the withheld span.
enum _PendingFrees {
  /// The list head of a closed region.
  static var closed: UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: 1).unsafelyUnwrapped
  }

  /// Claims `pointer` (a live block of `span`) and pushes it on its region's list, or frees it
  /// into the withheld span if the region closed.
  @inline(never)
  static func push(_ pointer: UnsafeMutableRawPointer, in span: _SpanPointer, _ what: StaticString)
  {
    if !_BlockHeader.claimPending(pointer) {
      _ = _Hook.liveHeader(pointer, span, what)  // stops: not live
      _Failure.badPointer(pointer, span: span, what: what, freed: true)
    }
    let head = span.pointee.core._pending
    let slot = UnsafeMutableRawPointer(head).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    var seen = regions_atomic_load_pointer(slot)
    while seen != closed {
      pointer.storeBytes(of: seen, as: UnsafeMutableRawPointer?.self)
      if regions_atomic_cas_pointer(slot, seen, pointer) { return }
      seen = regions_atomic_load_pointer(slot)
    }
    freeAfterClose(pointer, in: span)
  }

  /// A claimed block of a region that has closed (or is closing): once the close is over (its
  /// lock is free), the block's span is withheld, and the block is freed into it.
  static func freeAfterClose(_ pointer: UnsafeMutableRawPointer, in span: _SpanPointer) {
    let core = span.pointee.core
    let thread = regions_thread_context()!
    if let record = thread.pointee.record, core.pointee.closer == record {
      // Freed while this thread resets the region's stack (it holds the lock): the block is
      // gone with its span, and not counted live.
      _BlockHeader.setTag(pointer, _BlockHeader.freedTag)
      if !core.pointee.isLockless { span.pointee.liveBlocks -= 1 }
      return
    }
    core.withLock {}
    if span.pointee.isWithheld {
      _Spans.freeWithheld(pointer, in: span)
    } else {
      // A span the close found no live block in cannot hold a claimed one; a region that
      // was forked away keeps its blocks.
      _BlockHeader.setTag(pointer, _BlockHeader.freedTag)
    }
  }

  /// Gives the blocks waiting on `core`'s list to its stack. Requires the lock, an open region,
  /// and `thread` the calling thread's context.
  @inline(never)
  static func drain(_ core: _Core, _ thread: UnsafeMutablePointer<regions_thread_t>) {
    let slot = UnsafeMutableRawPointer(core._pending).assumingMemoryBound(
      to: UnsafeMutableRawPointer?.self)
    giveToStack(regions_atomic_exchange_pointer(slot, nil), core, thread)
  }

  /// Takes the list for the last time, leaving `closed`; gives the blocks to the stack.
  static func drainForClose(_ core: _Core, _ thread: UnsafeMutablePointer<regions_thread_t>) {
    let slot = UnsafeMutableRawPointer(core._pending).assumingMemoryBound(
      to: UnsafeMutableRawPointer?.self)
    giveToStack(regions_atomic_exchange_pointer(slot, closed), core, thread)
  }

  private static func giveToStack(
    _ first: UnsafeMutableRawPointer?, _ core: _Core,
    _ thread: UnsafeMutablePointer<regions_thread_t>
  ) {
    var block = first
    while let current = block, current != closed {
      block = current.load(as: UnsafeMutableRawPointer?.self)
      let header = _BlockHeader.read(current)
      _BlockHeader.setTag(current, _BlockHeader.freedTag)
      _Hook.giveToStack(current, header: header, core: core, thread)
    }
  }
}
