import RegionMacrosSupport

/// Reads a task-local's storage without copying (or retaining) the value: the runtime entry
/// behind `TaskLocal.get()`. The key is the `TaskLocal` object's address.
@_silgen_name("swift_task_localValueGet")
func _swiftTaskLocalValueGet(_ key: UnsafeRawPointer) -> UnsafeMutableRawPointer?

/// The runtime's answers to the C hook (see `regions_hook_routes`). Each is called with the
/// thread marked inside the hook, so whatever they allocate goes to the ground.
enum _Hook {
  nonisolated(unsafe) static var key: UnsafeRawPointer? = nil

  /// Installs the routes once; called by every `Region.enter`. Regions first entered on two
  /// threads at once (child tasks each entering their own) both wait for the one start.
  static func start() { _ = started }

  /// Runs once (a Swift lazy global: `swift_once`, which the runtime entries send to the
  /// ground, so what it allocates never lands in a region).
  private static let started: Void = {
    key = UnsafeRawPointer(Unmanaged.passUnretained(Region.$_current).toOpaque())
    _PageMap.start()
    _PageCache.start()
    _ = _ObjectNames.install
    var pages = regions_page_routes(
      acquire: _Spans.acquire, release: _Spans.release, acquire_outer: _OuterSpans.acquire,
      release_outer: _OuterSpans.release)
    regions_pages_install(&pages)
    var routes = regions_hook_routes(
      allocate: allocate, deallocate: deallocate, usable_size: usableSize, reallocate: reallocate)
    regions_hook_install(&routes)
  }()

  /// Stands for "the ground" in the per-thread binding slot (NULL there means "unknown").
  static var groundBinding: UnsafeRawPointer { UnsafeRawPointer(bitPattern: 1).unsafelyUnwrapped }

  /// The innermost region bound for the current task (open or not), unretained: from the
  /// synchronous scope's per-thread slot when one is running, else from the task-local.
  @inline(__always)
  static func boundRegion() -> UnsafeRawPointer? {
    if let binding = regions_get_sync_binding() {
      return binding == groundBinding ? nil : binding
    }
    guard let key, let storage = _swiftTaskLocalValueGet(key) else { return nil }
    return storage.load(as: UnsafeRawPointer?.self)
  }

  /// Runs a synchronous body with `region` bound both task-locally (for tasks it creates)
  /// and in the per-thread slot (for the hook's fast path).
  @inline(__always)
  static func withSyncBinding<Result>(
    _ region: _RegionNode?, _ body: () throws -> Result
  ) rethrows -> Result {
    let previous = regions_get_sync_binding()
    let binding = region.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
    defer { regions_set_sync_binding(previous) }
    return try Region.$_current.withValue(region) {
      regions_set_sync_binding(binding ?? groundBinding)
      return try body()
    }
  }

  enum Outcome {
    case served(UnsafeMutableRawPointer?)
    case passOutward
  }

  /// Serves from the first open region at or outside `start`; nil with `toGround` when none.
  /// Requires the thread marked inside the hook (see `insideHook`). Inlined into the hook's
  /// entry: every call level costs a frame on the hottest path.
  @inline(__always)
  static func allocate(
    from start: UnsafeRawPointer?, byteCount: Int, alignment: Int, toGround: inout Bool
  ) -> UnsafeMutableRawPointer? {
    var bits = start
    while let current = bits {
      let node = Unmanaged<_RegionNode>.fromOpaque(current)
      let outcome = node._withUnsafeGuaranteedRef { region -> Outcome in
        if !region.core.pointee.isOpen { return .passOutward }
        return region.core.withLockInsideHook {
          guard region.core.pointee.isOpen else { return .passOutward }
          if let block = region.serve(byteCount: byteCount, alignment: alignment) {
            return .served(block)
          }
          if byteCount < 0 || byteCount >= 1 << 46 { return .served(nil) }  // absurd: ENOMEM
          switch region.exhaustion {
          case .stop: _Failure.stop(region, byteCount: byteCount, alignment: alignment)
          case .useOuterRegion: return .passOutward
          }
        }
      }
      switch outcome {
      case .served(let block): return block
      case .passOutward: bits = node._withUnsafeGuaranteedRef { $0.parentBits }
      }
    }
    toGround = true
    return nil
  }

  static let allocate:
    @convention(c) (Int, Int, UnsafeMutablePointer<Bool>?) -> UnsafeMutableRawPointer? = {
      byteCount, alignment, toGround in
      var ground = false
      let block = allocate(
        from: boundRegion(), byteCount: byteCount, alignment: alignment, toGround: &ground)
      toGround?.pointee = ground
      return block
    }

  /// The live header of a region block, or a stop with a message for anything else inside
  /// region pages (a double free, an interior pointer).
  @inline(__always)
  static func liveHeader(
    _ pointer: UnsafeMutableRawPointer, _ span: _SpanPointer, _ what: StaticString
  ) -> _BlockHeader {
    let header = _BlockHeader.read(pointer)
    if header.tag != _BlockHeader.liveTag {
      _Failure.badPointer(
        pointer, span: span, what: what, freed: header.tag == _BlockHeader.freedTag)
    }
    return header
  }

  /// Frees a region block; false for a pointer no region owns. Requires the thread marked
  /// inside the hook.
  static let deallocate: @convention(c) (UnsafeMutableRawPointer?) -> Bool = { pointer in
    guard let pointer, let span = _PageMap.span(containing: pointer) else { return false }
    let core = span.pointee.core
    core.withLockInsideHook { freeBlock(pointer, in: span, of: core) }
    return true
  }

  /// Runs `body` with the thread marked inside the hook, for calls into the hook's routes
  /// from outside the hook (explicit mode's OuterRegionPages and GroundPages).
  @inline(__always)
  static func insideHook<R>(_ body: () -> R) -> R {
    let wasInside = regions_hook_set_inside(true)
    defer { _ = regions_hook_set_inside(wasInside) }
    return body()
  }

  /// Frees a region block. Requires the lock of `core`, the span's region. (A function of its
  /// own rather than the body of a closure, so that it is inlined into the hook's entry.)
  @inline(__always)
  static func freeBlock(_ pointer: UnsafeMutableRawPointer, in span: _SpanPointer, of core: _Core) {
    let header = liveHeader(pointer, span, "free")
    _BlockHeader.markFreed(pointer)
    if core.pointee.isOpen, let node = core.pointee.node {
      Unmanaged<_RegionNode>.fromOpaque(node)._withUnsafeGuaranteedRef {
        $0.unserve(pointer, header: header)
      }
    }
    span.pointee.liveBlocks &-= 1
    core.pointee.liveBlocks &-= 1
    if span.pointee.liveBlocks == 0 && span.pointee.isWithheld { _Spans.destroy(span) }
  }

  static let usableSize: @convention(c) (UnsafeMutableRawPointer?) -> Int = { pointer in
    guard let pointer, let span = _PageMap.span(containing: pointer) else { return -1 }
    return liveHeader(pointer, span, "malloc_usable_size").byteCount
  }

  /// Grows or shrinks a region block. It stays in place when it fits; otherwise it moves to
  /// its owner (if still open) or to where a malloc from here would go.
  static let reallocate:
    @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = {
      pointer, byteCount in
      guard let pointer, let span = _PageMap.span(containing: pointer) else { return nil }
      let header = liveHeader(pointer, span, "realloc")
      if byteCount <= header.byteCount { return pointer }
      let owner = span.pointee.core.pointee.node
      var ground = false
      var moved = allocate(
        from: owner ?? boundRegion(), byteCount: byteCount, alignment: 16, toGround: &ground)
      if ground { moved = regions_ground_malloc(byteCount) }
      guard let moved else { return nil }
      moved.copyMemory(from: pointer, byteCount: header.byteCount)
      _ = deallocate(pointer)
      return moved
    }
}
