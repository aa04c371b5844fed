import RegionMacrosSupport

/// What a region shares with its spans. It lives in ground memory, not in the region
/// object, because spans withheld after the scope (they still hold live blocks) must reach
/// their lock and counters after the region object is gone.
///
/// Every field is read and written under `lock`, except `isOpen`, which routing reads first
/// without the lock as a hint and then again under it.
struct _RegionCore {
  /// First, so that the core's address is the lock's.
  var lock = regions_region_lock_t()
  var isOpen = true
  /// The region object (one) plus one per span of the region.
  var references = 1
  /// The region object while the region is open (unretained: the scope keeps it alive).
  var node: UnsafeRawPointer?
  /// Blocks served through the hook and not yet freed.
  var liveBlocks = 0
  /// Spans mapped for the region and not yet given back to the OS.
  var liveSpans = 0
  /// Spans the stack gave back while a block in them was still live.
  var withheldSpans = 0
  /// Bytes in withheld spans.
  var withheldBytes = 0
  /// The span the last block came from: the next block is most likely in it too, which
  /// saves a page-map walk.
  var lastSpan: _SpanPointer? = nil
}

typealias _Core = UnsafeMutablePointer<_RegionCore>

extension UnsafeMutablePointer where Pointee == _RegionCore {
  /// A new core in ground memory, open, referenced once (by its region object).
  static func make() -> _Core {
    let raw = _groundAllocate(MemoryLayout<_RegionCore>.size)
    let core = raw.bindMemory(to: _RegionCore.self, capacity: 1)
    core.initialize(to: _RegionCore())
    regions_region_lock_init(core._lock)
    return core
  }

  var _lock: UnsafeMutablePointer<regions_region_lock_t> {
    UnsafeMutableRawPointer(self).assumingMemoryBound(to: regions_region_lock_t.self)
  }

  /// Runs `body` holding the core's lock, with this thread marked as inside the hook so that
  /// any allocation made meanwhile goes to the ground instead of deadlocking on this lock.
  /// Frees the core afterwards if `body` dropped its last reference.
  @inline(__always)
  func withLock<R>(_ body: () -> R) -> R {
    let wasInside = regions_hook_set_inside(true)
    defer { _ = regions_hook_set_inside(wasInside) }
    return withLockInsideHook(body)
  }

  /// `withLock` for a thread already marked inside the hook (the hook's routes, whose C
  /// callers mark it): the same, without saving and restoring the mark.
  @inline(__always)
  func withLockInsideHook<R>(_ body: () -> R) -> R {
    let biased = regions_region_lock_acquire(_lock)
    let result = body()
    let dead = pointee.references == 0
    regions_region_lock_release(_lock, biased)
    if dead {
      deinitialize(count: 1)
      regions_ground_free(self)
    }
    return result
  }
}

/// Ground memory for the runtime's own records; never routed into a region.
func _groundAllocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
  guard let raw = regions_ground_malloc(byteCount) else {
    fatalError("Regions: the ground allocator has no memory for the runtime's records")
  }
  return raw
}
