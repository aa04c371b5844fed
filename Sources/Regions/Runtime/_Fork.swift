import RegionMacrosSupport

/// What fork() does to the runtime. Before the fork, the forking thread takes the runtime's
/// global locks (the registry, the address space, the page cache), so that no other thread
/// holds them half-way through an update when the child is made; the parent releases them.
///
/// The child has one thread. Any other thread may have held a region's lock, or been half-way
/// through its stack, at the fork: so the child closes every region it inherited, without
/// calling their stacks. Its allocations go to the regions it enters itself, or the ground;
/// frees of blocks of inherited regions are accepted and the blocks kept (they die with the
/// child, or with its exec). This is glibc's own choice for its arenas' locks: reset them in
/// the child.
enum _Fork {
  static func install() {
    regions_install_fork_handlers(prepare, parent, child)
  }

  static let prepare: @convention(c) () -> Void = {
    regions_lock_acquire(_CoreRegistry.lock)
    regions_lock_acquire(_AddressSpace.lock)
    regions_lock_acquire(_PageCache.lock)
  }

  static let parent: @convention(c) () -> Void = {
    regions_lock_release(_PageCache.lock)
    regions_lock_release(_AddressSpace.lock)
    regions_lock_release(_CoreRegistry.lock)
  }

  static let child: @convention(c) () -> Void = {
    _PageCache.lock?.initialize(to: regions_lock_t())
    _AddressSpace.lock?.initialize(to: regions_lock_t())
    var core = _CoreRegistry.first
    while let current = core {
      regions_region_lock_reset(current._lock)
      current._spansLock.initialize(to: regions_lock_t())
      if current.pointee.isOpen {
        current.pointee.isOpen = false
        current.pointee.isForked = true
      }
      let slot = UnsafeMutableRawPointer(current._pending).assumingMemoryBound(
        to: UnsafeMutableRawPointer?.self)
      slot.pointee = _PendingFrees.closed
      core = current.pointee.registryNext
    }
    _CoreRegistry.lock?.initialize(to: regions_lock_t())
    // Every region is closed here, whatever the count read: another thread may have been
    // between registering a region and counting it (or closing one and uncounting it).
    regions_hook_open_regions_clear()
    regions_process_binding_store(nil)
    regions_binding_epoch_bump()
    // The forking thread's record may be the bias owner of locks reset above: start afresh.
    let thread = regions_thread_context()!
    thread.pointee.record?.pointee.inside = nil
  }
}
