import RegionMacrosSupport

/// Pages a source layer mapped while serving a region: the unit the runtime withholds from
/// the OS while a block in it is live.
struct _Span {
  var base: UnsafeMutableRawPointer
  var byteCount: Int
  var core: _Core
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
  static let acquire: @convention(c) (Int, Int) -> UnsafeMutableRawPointer? = { byteCount, alignment in
    guard let serving = regions_serving_region() else { return regions_os_map(byteCount, alignment) }
    guard let pointer = _PageCache.take(byteCount: byteCount, alignment: alignment)
      ?? regions_os_map(byteCount, alignment)
    else { return nil }
    let core = serving.assumingMemoryBound(to: _RegionCore.self)
    let span = _groundAllocate(MemoryLayout<_Span>.size).bindMemory(to: _Span.self, capacity: 1)
    span.initialize(to: _Span(base: pointer, byteCount: byteCount, core: core))
    core.pointee.references += 1
    core.pointee.liveSpans += 1
    _PageMap.set(pointer, byteCount: byteCount, to: span)
    regions_hook_spans_add(1)
    regions_counter_add(regions_counter_spans, 1)
    regions_counter_add(regions_counter_span_bytes, byteCount)
    return pointer
  }

  /// Gives pages back: to the OS at once, unless they are a span with live blocks, which is
  /// withheld until its last block is freed.
  static let release: @convention(c) (UnsafeMutableRawPointer?, Int) -> Void = { pointer, byteCount in
    guard let pointer else { return }
    guard let span = _PageMap.span(containing: pointer) else {
      regions_os_unmap(pointer, byteCount)
      return
    }
    precondition(
      span.pointee.base == pointer && span.pointee.byteCount == byteCount,
      "Regions: a layer gave back \(byteCount) bytes at \(pointer), which is not the span it was given")
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
    regions_counter_add(regions_counter_spans, -1)
    regions_counter_add(regions_counter_span_bytes, -span.pointee.byteCount)
    _PageMap.set(span.pointee.base, byteCount: span.pointee.byteCount, to: nil)
    if !_PageCache.keep(span.pointee.base, byteCount: span.pointee.byteCount) {
      regions_os_unmap(span.pointee.base, span.pointee.byteCount)
    }
    core.pointee.liveSpans -= 1
    core.pointee.references -= 1
    regions_hook_spans_add(-1)
    span.deinitialize(count: 1)
    regions_ground_free(span)
  }
}
