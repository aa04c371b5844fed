import Layers
import RegionMacrosSupport

/// The page routes (`_PageRoutes`): what a page source layer gets while the hook serves a
/// region becomes a span of that region; in explicit mode (no region being served on the
/// thread) pages come from the OS, or blocks from wherever a malloc would go.
enum _PageSource {
  static var routes: _PageRoutes {
    _PageRoutes(
      acquire: acquire, release: release, protect: protect, acquireOuter: acquireOuter,
      releaseOuter: releaseOuter)
  }

  /// The region being served on this thread, if any.
  @inline(__always)
  static var serving: _Core? {
    let state = regions_thread_context()!.pointee.state
    guard let state, state != regions_hook_inside_marker() else { return nil }
    return state.assumingMemoryBound(to: _RegionCore.self)
  }

  /// Pages for the region being served: cached ones (cleared when asked), or a fresh range of
  /// the reservation.
  static let acquire: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer? = {
    byteCount, alignment, cleared in
    guard let core = serving else { return regions_os_map(byteCount, alignment) }
    if regions_os_map_should_fail() { return nil }
    guard
      let pointer = _PageCache.take(byteCount: byteCount, alignment: alignment, cleared: cleared)
        ?? _AddressSpace.take(byteCount: byteCount, alignment: alignment)
    else { return nil }
    _Spans.register(pointer, byteCount: byteCount, core: core, source: .pages, outerSpan: nil)
    return pointer
  }

  /// Pages given back by a layer: a span's go back (or are withheld); explicit mode's to the OS.
  static let release: @convention(c) (UnsafeMutableRawPointer, Int) -> Void = {
    pointer, byteCount in
    guard let span = _span(containing: pointer) else {
      regions_os_unmap(pointer, byteCount)
      return
    }
    if span.pointee.base != pointer || span.pointee.byteCount != byteCount {
      _ = regions_hook_enter()
      fatalError(
        "Regions: a layer gave back \(byteCount) bytes at \(pointer), which is not the span it was given (\(span.pointee.byteCount) bytes at \(span.pointee.base))"
      )
    }
    _Spans.giveBack(span)
  }

  /// A layer (Guard) protects pages of its blocks; the span is marked, so that scans read it
  /// without faulting and its pages are made accessible before reuse.
  static let protect: @convention(c) (UnsafeMutableRawPointer, Int, Bool) -> Bool = {
    pointer, byteCount, accessible in
    if let span = _span(containing: pointer) { span.pointee.hasProtections = true }
    return regions_os_protect(pointer, byteCount, accessible) == 0
  }

  /// Page blocks from the region enclosing the one being served (or from the ground); in
  /// explicit mode, from wherever a malloc here would go.
  static let acquireOuter: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer? = {
    byteCount, alignment, groundOnly in
    let thread = regions_thread_context()!
    guard let core = serving else {
      if !groundOnly, let bound = _Bindings.bound(thread) {
        let block = withInside(thread) {
          _Hook.serve(from: bound, byteCount: byteCount, alignment: alignment, thread)
        }
        if block != _Hook.toGround { return block }
      }
      return regions_ground_aligned(alignment, byteCount)
    }
    if !groundOnly, let parent = core.pointee.parent {
      // Takes the enclosing region's lock while holding this one's: always inner, then outer.
      let block = _Hook.serve(from: parent, byteCount: byteCount, alignment: alignment, thread)
      if block != _Hook.toGround {
        guard let block else { return nil }
        _Spans.register(
          block, byteCount: byteCount, core: core, source: .outerRegion,
          outerSpan: _span(containing: block))
        return block
      }
    }
    guard let block = regions_ground_aligned(alignment, byteCount) else { return nil }
    _Spans.register(block, byteCount: byteCount, core: core, source: .ground, outerSpan: nil)
    return block
  }

  static let releaseOuter: @convention(c) (UnsafeMutableRawPointer, Int) -> Void = {
    pointer, byteCount in
    if let span = _span(containing: pointer), span.pointee.base == pointer,
      span.pointee.source != .pages
    {
      release(pointer, byteCount)
      return
    }
    // Explicit mode: a block a malloc here would have returned.
    if !_Hook.deallocate(pointer) { regions_ground_free(pointer) }
  }

  /// Runs `body` with the thread marked inside the hook (explicit mode's calls into the
  /// hook's paths: allocations they make go to the ground).
  @inline(__always)
  static func withInside<R>(_ thread: UnsafeMutablePointer<regions_thread_t>, _ body: () -> R) -> R
  {
    let previous = regions_hook_enter()
    defer { regions_hook_restore(previous) }
    return body()
  }
}
