import RegionMacrosSupport

/// Pages a source layer mapped while serving a region: the unit the runtime withholds from
/// the OS while a block in it is live.
struct _Span {
  /// Where the pages came from, and so where they go back.
  enum Source {
    /// Mapped from the OS (Mmap, and any layer using `_Pages`).
    case pages
    /// A block of the enclosing region (OuterRegionPages): its pages lie inside a span of that region.
    case outerRegion
    /// A page-aligned block of the ground allocator (GroundPages, or OuterRegionPages with no region out).
    case ground
  }

  var base: UnsafeMutableRawPointer
  var byteCount: Int
  var core: _Core
  var source: Source
  /// For `.outerRegion`: the enclosing region's span these pages belong to, put back in the
  /// page map when this span goes.
  var outerSpan: _SpanPointer?
  /// Hook blocks in the span that are live.
  var liveBlocks = 0
  /// The stack gave the span back while blocks were live; it goes to the OS with the last.
  var isWithheld = false
}

typealias _SpanPointer = UnsafeMutablePointer<_Span>

/// The page routes: source layers' pages become spans of the region being served.
enum _Spans {
  /// Maps pages; while a region is being served on this thread (its lock held), records them
  /// as a span of that region.
  static let acquire: @convention(c) (Int, Int) -> UnsafeMutableRawPointer? = {
    byteCount, alignment in
    guard let serving = regions_serving_region() else {
      return regions_os_map(byteCount, alignment)
    }
    guard
      let pointer = _PageCache.take(byteCount: byteCount, alignment: alignment)
        ?? regions_os_map(byteCount, alignment)
    else { return nil }
    register(
      pointer, byteCount: byteCount, core: serving.assumingMemoryBound(to: _RegionCore.self),
      source: .pages, outerSpan: nil)
    return pointer
  }

  /// Records pages as a span of `core`'s region. Requires that region's lock.
  static func register(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, core: _Core, source: _Span.Source,
    outerSpan: _SpanPointer?
  ) {
    let span = _groundAllocate(MemoryLayout<_Span>.size).bindMemory(to: _Span.self, capacity: 1)
    span.initialize(
      to: _Span(
        base: pointer, byteCount: byteCount, core: core, source: source, outerSpan: outerSpan))
    core.pointee.references += 1
    core.pointee.liveSpans += 1
    _PageMap.set(pointer, byteCount: byteCount, to: span)
    regions_hook_spans_add(1)
    regions_counter_add(regions_counter_spans, 1)
    regions_counter_add(regions_counter_span_bytes, byteCount)
  }

  /// Gives pages back: to the OS at once, unless they are a span with live blocks, which is
  /// withheld until its last block is freed.
  static let release: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = {
    pointer, byteCount in
    guard let pointer else { return }
    guard let span = _PageMap.span(containing: pointer) else {
      regions_os_unmap(pointer, byteCount)
      return
    }
    if !(span.pointee.base == pointer && span.pointee.byteCount == byteCount) {
      AllocationRequest.stop(
        "Regions: a layer gave back \(byteCount) bytes at \(pointer), which is not the span it was given"
      )
    }
    // The caller is a layer of the span's region, running under that region's lock.
    if span.pointee.liveBlocks > 0 {
      span.pointee.isWithheld = true
      span.pointee.core.pointee.withheldSpans += 1
      span.pointee.core.pointee.withheldBytes += byteCount
      regions_counter_add(regions_counter_withheld_spans, 1)
      regions_counter_add(regions_counter_withheld_bytes, byteCount)
      return
    }
    destroy(span)
  }

  /// Unmaps a span with no live blocks and forgets it. Requires its region's lock.
  static func destroy(_ span: _SpanPointer) {
    let core = span.pointee.core
    if core.pointee.lastSpan == span { core.pointee.lastSpan = nil }
    if span.pointee.isWithheld {
      core.pointee.withheldSpans -= 1
      core.pointee.withheldBytes -= span.pointee.byteCount
      regions_counter_add(regions_counter_withheld_spans, -1)
      regions_counter_add(regions_counter_withheld_bytes, -span.pointee.byteCount)
    }
    let base = span.pointee.base
    let byteCount = span.pointee.byteCount
    regions_counter_add(regions_counter_spans, -1)
    regions_counter_add(regions_counter_span_bytes, -byteCount)
    switch span.pointee.source {
    case .pages:
      _PageMap.set(base, byteCount: byteCount, to: nil)
      if !_PageCache.keep(base, byteCount: byteCount) { regions_os_unmap(base, byteCount) }
    case .outerRegion:
      // The pages become the enclosing region's block again, and go back to it.
      _PageMap.set(base, byteCount: byteCount, to: span.pointee.outerSpan)
      _ = _Hook.deallocate(base)
    case .ground:
      _PageMap.set(base, byteCount: byteCount, to: nil)
      regions_ground_free(base)
    }
    core.pointee.liveSpans -= 1
    core.pointee.references -= 1
    regions_hook_spans_add(-1)
    span.deinitialize(count: 1)
    regions_ground_free(span)
  }
}

/// The routes behind OuterRegionPages and GroundPages: page blocks from the enclosing region or the ground,
/// recorded as spans of the region being served so its blocks can be traced back.
enum _OuterSpans {
  static let acquire: @convention(c) (Int, Int, Bool) -> UnsafeMutableRawPointer? = {
    byteCount, alignment, groundOnly in
    guard let serving = regions_serving_region() else {
      // Explicit mode: the block comes from wherever a malloc here would go.
      if !groundOnly {
        var toGround = false
        let block = _Hook.insideHook {
          _Hook.allocate(
            from: _Hook.boundRegion(), byteCount: byteCount, alignment: alignment,
            toGround: &toGround)
        }
        if !toGround { return block }
      }
      return regions_ground_aligned(alignment, byteCount)
    }
    let core = serving.assumingMemoryBound(to: _RegionCore.self)
    if !groundOnly, let node = core.pointee.node {
      let parentBits = Unmanaged<_RegionNode>.fromOpaque(node)._withUnsafeGuaranteedRef {
        $0.parentBits
      }
      var toGround = false
      // Takes the enclosing region's lock while holding this one's: always inner, then outer.
      let block = _Hook.allocate(
        from: parentBits, byteCount: byteCount, alignment: alignment, toGround: &toGround)
      if !toGround {
        guard let block else { return nil }
        _Spans.register(
          block, byteCount: byteCount, core: core, source: .outerRegion,
          outerSpan: _PageMap.span(containing: block))
        return block
      }
    }
    guard let block = regions_ground_aligned(alignment, byteCount) else { return nil }
    _Spans.register(block, byteCount: byteCount, core: core, source: .ground, outerSpan: nil)
    return block
  }

  static let release: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = {
    pointer, byteCount in
    guard let pointer else { return }
    if let span = _PageMap.span(containing: pointer), span.pointee.base == pointer,
      span.pointee.source != .pages
    {
      _Spans.release(pointer, byteCount)
      return
    }
    // Explicit mode: a block a malloc here would have returned.
    if !_Hook.insideHook({ _Hook.deallocate(pointer) }) { regions_ground_free(pointer) }
  }
}
