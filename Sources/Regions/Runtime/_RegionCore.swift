public import RegionMacrosSupport

/// A region as the hook sees it: its lock, its counters, its spans and the way to its stack.
/// It lives in ground memory, not in the region object, because spans withheld after the
/// scope (they still hold live blocks) reach it after the region object is gone.
///
/// `lock` guards the stack and the spans' live counts; `spansLock` guards the span bookkeeping (the span
/// list, withheld counts, `references`), which changes far less often. `isOpen` is read
/// without a lock first, as a hint, and again under `lock`. `pending` is the list of blocks
/// freed by threads that do not hold the lock's bias (see `_PendingFrees`); it sits on a
/// cache line of its own, because those threads write it.
@usableFromInline
struct _RegionCore {
  /// First, so that the core's address is the lock's.
  @usableFromInline var lock = regions_region_lock_t()
  /// The stack's `serve` and `free` closures as the interposer calls them: right after the
  /// lock (`regions_core_fast_paths`).
  var fastPaths: regions_fast_paths
  /// Right after the fast paths (`_isOpen`).
  @usableFromInline var isOpen = true
  /// The stack is thread-safe and called without the lock (see `_StackPaths.serveLockless`);
  /// the spans' live counts are then not kept.
  @usableFromInline let isLockless: Bool
  /// The stack's storage while the region is open (ground memory).
  @usableFromInline var stack: UnsafeMutableRawPointer
  /// The stack's specialized operations, retained by the core until it is freed.
  let paths: Unmanaged<_StackPaths>
  /// The region object while the region is open (unretained: the scope keeps it alive).
  var node: UnsafeRawPointer?
  /// The next region out, for walking outward from a closed binding. Unretained: the region
  /// object keeps its parent's alive, and walks start from a live binding.
  var parent: _Core?
  let exhaustion: Region.ExhaustionPolicy
  /// The stack's type, for messages (also after the region object is gone).
  let stackName: String

  var spansLock = regions_lock_t()
  /// The region object (one) plus one per span of the region; the core is freed at zero.
  var references = 1
  /// The region's spans, a list through `_Span.next`.
  var spans: _SpanPointer? = nil
  var liveSpans = 0
  var withheldSpans = 0
  var withheldBytes = 0
  /// Bytes of withheld spans still resident (pages holding live blocks).
  var withheldResidentBytes = 0
  /// Set in a child of fork for every region it inherited: they never serve again.
  var isForked = false
  /// The box of an error the region's body threw, while the region closes (see `_Escapes`).
  var escapingError: UnsafeRawPointer? = nil
  /// The thread closing the region, while it does (it holds the lock).
  var closer: UnsafeMutablePointer<regions_thread_record>? = nil

  /// The registry of every core in the process (for fork).
  var registryNext: _Core? = nil
  var registryPrevious: _Core? = nil

  private var _separation: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt) = (
    0, 0, 0, 0, 0, 0, 0, 0
  )
  /// Blocks freed by other threads, waiting for the lock holder (or `_PendingFrees.closed`).
  @usableFromInline var pending: UnsafeMutableRawPointer? = nil
  private var _tail: (UInt, UInt, UInt, UInt, UInt, UInt, UInt) = (0, 0, 0, 0, 0, 0, 0)

  init(
    parent: _Core?, stack: UnsafeMutableRawPointer, paths: _StackPaths,
    exhaustion: Region.ExhaustionPolicy, stackName: String
  ) {
    self.parent = parent
    self.stack = stack
    self.isLockless = paths.layer.isThreadSafe && regions_lockless_available()
    self.paths = Unmanaged.passRetained(paths)
    // The closures' function and context words; the core keeps `paths`, and so them, alive.
    // Each closure is read inside a struct: a function value passed to a generic function
    // directly would be re-abstracted behind a thunk with another calling convention.
    let serve = unsafeBitCast(
      _ServeWords(function: paths.serve), to: (UnsafeRawPointer, UnsafeMutableRawPointer?).self)
    let free = unsafeBitCast(
      _FreeWords(function: paths.free), to: (UnsafeRawPointer, UnsafeMutableRawPointer?).self)
    self.fastPaths = regions_fast_paths_make(
      unsafeBitCast(serve.0, to: regions_serve_function.self), serve.1,
      unsafeBitCast(free.0, to: regions_free_function.self), free.1)
    self.exhaustion = exhaustion
    self.stackName = stackName
  }
}

@usableFromInline typealias _Core = UnsafeMutablePointer<_RegionCore>

// The fast paths' closures in their natural representation (function pointer, context), as
// C calls them. Concrete structs: a function stored under a generic parameter is re-abstracted.
private struct _ServeWords {
  let function: (UnsafeMutableRawPointer, Int, UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?
}
private struct _FreeWords {
  let function:
    (
      UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer,
      UnsafeMutableRawPointer
    )
      -> Void
}

extension _RegionCore {
  /// The offsets of the fields reached through their address, found once at start-up (key
  /// paths are not for the allocation path: a debug build instantiates them at run time).
  nonisolated(unsafe) static var spansLockOffset = 0
  nonisolated(unsafe) static var pendingOffset = 0

  static func findOffsets() {
    spansLockOffset = MemoryLayout<_RegionCore>.offset(of: \.spansLock)!
    pendingOffset = MemoryLayout<_RegionCore>.offset(of: \.pending)!
    let lockSize = MemoryLayout<regions_region_lock_t>.size
    if MemoryLayout<_RegionCore>.offset(of: \.fastPaths) != lockSize
      || MemoryLayout<_RegionCore>.offset(of: \.isOpen)
        != lockSize + MemoryLayout<regions_fast_paths>.size
    {
      fatalError("Regions: a region core's fast paths and isOpen must follow its lock")
    }
  }
}

extension UnsafeMutablePointer where Pointee == _RegionCore {
  /// A new core in ground memory, open, referenced once (by its region object), registered.
  static func make(
    parent: _Core?, stack: UnsafeMutableRawPointer, paths: _StackPaths,
    exhaustion: Region.ExhaustionPolicy, stackName: String
  ) -> _Core {
    let raw = regions_ground_aligned(64, MemoryLayout<_RegionCore>.size)
    guard let raw else {
      fatalError("Regions: the ground allocator has no memory for the runtime's records")
    }
    let core = raw.bindMemory(to: _RegionCore.self, capacity: 1)
    core.initialize(
      to: _RegionCore(
        parent: parent, stack: stack, paths: paths, exhaustion: exhaustion, stackName: stackName))
    regions_region_lock_init(core._lock)
    _CoreRegistry.insert(core)
    return core
  }

  /// `isOpen`'s address: the field after the lock and the fast paths (checked at start-up,
  /// `_Runtime`).
  @inlinable @inline(__always)
  var _isOpen: UnsafeMutablePointer<Bool> {
    (UnsafeMutableRawPointer(self) + MemoryLayout<regions_region_lock_t>.size
      + MemoryLayout<regions_fast_paths>.size)
      .assumingMemoryBound(to: Bool.self)
  }

  @inlinable @inline(__always)
  var _lock: UnsafeMutablePointer<regions_region_lock_t> {
    UnsafeMutableRawPointer(self).assumingMemoryBound(to: regions_region_lock_t.self)
  }

  var _spansLock: UnsafeMutablePointer<regions_lock_t> {
    (UnsafeMutableRawPointer(self) + _RegionCore.spansLockOffset)
      .assumingMemoryBound(to: regions_lock_t.self)
  }

  var _pending: UnsafeMutablePointer<UnsafeMutableRawPointer?> {
    (UnsafeMutableRawPointer(self) + _RegionCore.pendingOffset)
      .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
  }

  /// The stack's operations (alive as long as the core).
  @inline(__always)
  var paths: Unmanaged<_StackPaths> { pointee.paths }

  /// Runs `body` holding the region's lock, with this thread marked as inside the hook (so
  /// any allocation made meanwhile goes to the ground instead of deadlocking on this lock).
  /// Not on the hook's hot path.
  func withLock<R>(_ body: () -> R) -> R {
    let thread = regions_thread_context()!
    let previous = regions_hook_enter()
    defer { regions_hook_restore(previous) }
    let record = _ThreadIdentity.record(thread)
    let biased = regions_region_lock_acquire(_lock, record)
    defer { regions_region_lock_release(_lock, record, biased) }
    if pointee.pending != nil && pointee.isOpen { _PendingFrees.drain(self, thread) }
    return body()
  }

  /// Runs `body` holding the span bookkeeping's lock; frees the core afterwards if `body`
  /// dropped its last reference.
  func withSpansLock<R>(_ body: () -> R) -> R {
    regions_lock_acquire(_spansLock)
    let result = body()
    let dead = pointee.references == 0
    regions_lock_release(_spansLock)
    if dead { destroy() }
    return result
  }

  /// Drops a reference (the region object's, at its deinit).
  func release() {
    withSpansLock { pointee.references -= 1 }
  }

  private func destroy() {
    _CoreRegistry.remove(self)
    pointee.paths.release()
    deinitialize(count: 1)
    regions_ground_free(self)
  }
}

/// Every core in the process, so that a child of fork can close the regions it inherited.
enum _CoreRegistry {
  nonisolated(unsafe) static var lock: UnsafeMutablePointer<regions_lock_t>? = nil
  nonisolated(unsafe) static var first: _Core? = nil

  static func start() {
    if lock != nil { return }
    let memory = _groundAllocate(MemoryLayout<regions_lock_t>.size)
      .bindMemory(to: regions_lock_t.self, capacity: 1)
    memory.initialize(to: regions_lock_t())
    lock = memory
  }

  static func insert(_ core: _Core) {
    regions_lock_acquire(lock)
    core.pointee.registryNext = first
    first?.pointee.registryPrevious = core
    first = core
    regions_lock_release(lock)
  }

  static func remove(_ core: _Core) {
    regions_lock_acquire(lock)
    if let previous = core.pointee.registryPrevious {
      previous.pointee.registryNext = core.pointee.registryNext
    } else {
      first = core.pointee.registryNext
    }
    core.pointee.registryNext?.pointee.registryPrevious = core.pointee.registryPrevious
    regions_lock_release(lock)
  }
}

/// Ground memory for the runtime's own records; never routed into a region.
func _groundAllocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
  guard let raw = regions_ground_malloc(byteCount) else {
    fatalError("Regions: the ground allocator has no memory for the runtime's records")
  }
  return raw
}

/// The calling thread's lock identity.
enum _ThreadIdentity {
  @inline(__always)
  static func record(_ thread: UnsafeMutablePointer<regions_thread_t>)
    -> UnsafeMutablePointer<regions_thread_record>
  {
    if let record = thread.pointee.record { return record }
    return create()
  }

  /// Makes the record (ground memory; the thread key it registers may allocate, and that goes
  /// to the ground too).
  @inline(never)
  static func create() -> UnsafeMutablePointer<regions_thread_record> {
    let previous = regions_hook_enter()
    defer { regions_hook_restore(previous) }
    guard let record = regions_thread_record_slow() else {
      fatalError("Regions: the ground allocator has no memory for a thread's record")
    }
    return record
  }
}
