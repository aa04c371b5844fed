import Layers
import RegionMacrosSupport
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Starts the hook's runtime once: its tables, the routes the interposer and the page sources
/// call, and the fork handlers.
enum _Runtime {
  /// Whether the hook routes allocations in this process (false under ASan / TSan, or when no
  /// address range could be reserved).
  nonisolated(unsafe) static var hookIsActive = false

  /// Called by every `Region.enter`. Regions first entered on two threads at once (child
  /// tasks each entering their own) both wait for the one start and the one warm-up; the
  /// warm-up's own regions, on the thread running it, go on.
  static func start() {
    _ = started
    if warmState.load(ordering: .acquiring) == 2 { return }
    if warmState.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing)
      .exchanged
    {
      warmingThread.store(UInt(pthread_self()), ordering: .releasing)
      warmUp()
      warmState.store(2, ordering: .releasing)
      return
    }
    if warmingThread.load(ordering: .acquiring) == UInt(pthread_self()) { return }
    while warmState.load(ordering: .acquiring) != 2 { sched_yield() }
  }

  /// 0 before the warm-up, 1 while it runs (on `warmingThread`), 2 after.
  static let warmState = Atomic<Int>(0)
  static let warmingThread = Atomic<UInt>(0)

  /// Runs the hook's own paths once, on a region of its own, before any region serves: every
  /// piece of type metadata they use is then instantiated. A free can reach the runtime while
  /// the thread is inside the Swift runtime (which may hold its metadata locks): those frees
  /// are deferred (see `_PendingFrees`), and the code that defers them must not need the
  /// runtime's locks itself, which is what this guarantees even in a debug build.
  private static func warmUp() {
    guard hookIsActive else { return }
    var stack = Chunk(4096) { Mmap() }
    let region = Region._open(&stack, .stop)
    let kept: UnsafeMutableRawPointer = Region._bind(region) {
      let first = malloc(48)!
      let large = malloc(6000)!
      let kept = calloc(1, 16)!
      _ = regions_malloc_usable_size(first)
      let moved = realloc(large, 9000)!
      free(first)
      if let span = _span(containing: moved) { _PendingFrees.push(moved, in: span, "free") }
      free(malloc(32))  // drains the pending list
      return kept
    }
    Region._close(region, into: &stack)
    free(kept)  // into the withheld span, which goes with it
  }

  /// Runs once (a Swift lazy global: `swift_once`, which the runtime entries send to the
  /// ground, so what it allocates never lands in a region).
  private static let started: Void = {
    _Bindings.key = UnsafeRawPointer(Unmanaged.passUnretained(Region.$_current).toOpaque())
    _RegionCore.findOffsets()
    _CoreRegistry.start()
    _ = _ObjectNames.install
    _ = _Escapes.install
    guard regions_hook_is_compiled(), regions_reservation_size() > regions_bootstrap_size else {
      return
    }
    _PageMap.start()
    _AddressSpace.start()
    _PageCache.start()
    _Fork.install()
    guard regions_hook_start() else { return }
    _pageRoutes = _PageSource.routes
    hookIsActive = true
  }()
}
