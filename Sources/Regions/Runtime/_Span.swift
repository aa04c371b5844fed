import RegionMacrosSupport

/// Pages a source layer took while serving a region: the unit the runtime withholds from the
/// OS while a block in it is live.
@usableFromInline
struct _Span {
  /// Where the pages came from, and so where they go back.
  enum Source {
    /// A range of the reservation (Mmap, and any layer using `_Pages`).
    case pages
    /// A block of the enclosing region (OuterRegionPages): its pages lie inside a span of that
    /// region.
    case outerRegion
    /// A page-aligned block of the ground allocator (GroundPages, or OuterRegionPages with no
    /// region out): outside the reservation, found through `_PageMap`.
    case ground
  }

  /// First: the interposer reads a span's core from its first word.
  var core: _Core
  var base: UnsafeMutableRawPointer
  var byteCount: Int
  var source: Source
  /// For `.outerRegion`: the enclosing region's span these pages belong to, put back in the
  /// span table when this span goes.
  var outerSpan: _SpanPointer?
  /// The stack gave the span back while blocks were live; it goes with the last of them.
  @usableFromInline var isWithheld = false
  /// Blocks served through the hook in the span and not yet freed: kept on every serve and
  /// free under the region's lock (under `spansLock` once withheld). A region over a
  /// thread-safe stack (lockless) keeps no count: the scan counts a span's blocks when it is
  /// withheld.
  @usableFromInline var liveBlocks = 0
  /// Bytes of a withheld span still resident.
  var residentBytes = 0
  /// A layer changed the protection of some of its pages (Guard): scans read it carefully,
  /// and its pages are made accessible again before reuse.
  var hasProtections = false
  /// The core's span list.
  var next: _SpanPointer? = nil
  var previous: _SpanPointer? = nil

}

@usableFromInline typealias _SpanPointer = UnsafeMutablePointer<_Span>

/// The span holding `address`, in the reservation or outside it.
@inline(__always)
func _span(containing address: UnsafeRawPointer) -> _SpanPointer? {
  if regions_in_reservation(address) { return _SpanTable.span(containing: address) }
  return _PageMap.span(containing: address)
}

/// Spans: made when a page source serves a region, withheld or destroyed when given back.
enum _Spans {
  /// Points the pages of `[base, base + byteCount)` at `span`: in the span table for the
  /// reservation, in the page map outside it.
  static func setOwner(_ base: UnsafeRawPointer, byteCount: Int, to span: _SpanPointer?) {
    if regions_in_reservation(base) {
      _SpanTable.set(base, byteCount: byteCount, to: span)
    } else {
      _PageMap.set(base, byteCount: byteCount, to: span)
    }
  }

  /// Records pages as a span of `core`'s region.
  static func register(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, core: _Core, source: _Span.Source,
    outerSpan: _SpanPointer?
  ) {
    let span = _groundAllocate(MemoryLayout<_Span>.size).bindMemory(to: _Span.self, capacity: 1)
    span.initialize(
      to: _Span(
        core: core, base: pointer, byteCount: byteCount, source: source, outerSpan: outerSpan))
    core.withSpansLock {
      span.pointee.next = core.pointee.spans
      core.pointee.spans?.pointee.previous = span
      core.pointee.spans = span
      core.pointee.references += 1
      core.pointee.liveSpans += 1
    }
    setOwner(pointer, byteCount: byteCount, to: span)
    if !regions_in_reservation(pointer) { regions_hook_foreign_spans_add(1) }
    regions_counter_add(regions_counter_spans, 1)
    regions_counter_add(regions_counter_span_bytes, byteCount)
  }

  /// A span its stack gave back (or that its closed region still held): destroyed at once when
  /// no block in it is live, otherwise withheld until its last block is freed. Requires the
  /// region's lock (or its close).
  static func giveBack(_ span: _SpanPointer) {
    let core = span.pointee.core
    let counted = !core.pointee.isLockless
    if counted && span.pointee.liveBlocks == 0 {
      destroy(span)
      return
    }
    // The scan gives the pages without live blocks back; it counts the blocks only where the
    // region keeps no count.
    let found = scan(span)
    let live = counted ? span.pointee.liveBlocks : found.liveBlocks
    if live == 0 {
      destroy(span)
      return
    }
    core.withSpansLock {
      span.pointee.isWithheld = true
      span.pointee.liveBlocks = live
      span.pointee.residentBytes = found.residentBytes
      core.pointee.withheldSpans += 1
      core.pointee.withheldBytes += span.pointee.byteCount
      core.pointee.withheldResidentBytes += found.residentBytes
    }
    regions_counter_add(regions_counter_withheld_spans, 1)
    regions_counter_add(regions_counter_withheld_bytes, span.pointee.byteCount)
    regions_counter_add(regions_counter_withheld_resident_bytes, found.residentBytes)
  }

  /// Gives back the spans of a closed region that its stack kept through `reset` (a source
  /// with no reset of its own, like `Mmap` alone). Requires the region's lock.
  static func giveBackRemaining(_ core: _Core) {
    var span = core.withSpansLock { core.pointee.spans }
    while let current = span {
      let next = core.withSpansLock { current.pointee.next }
      if !current.pointee.isWithheld { giveBack(current) }
      span = next
    }
  }

  /// A block of a withheld span is freed; the span goes with its last block. Requires the
  /// block's header to have been checked.
  static func freeWithheld(_ pointer: UnsafeMutableRawPointer, in span: _SpanPointer) {
    let core = span.pointee.core
    let last: Bool = core.withSpansLock {
      _BlockHeader.setTag(pointer, _BlockHeader.freedTag)
      span.pointee.liveBlocks -= 1
      return span.pointee.liveBlocks == 0
    }
    if last { destroy(span) }
  }

  /// Forgets a span and gives its pages back where they came from.
  static func destroy(_ span: _SpanPointer) {
    let core = span.pointee.core
    let base = span.pointee.base
    let byteCount = span.pointee.byteCount
    core.withSpansLock {
      if let previous = span.pointee.previous {
        previous.pointee.next = span.pointee.next
      } else {
        core.pointee.spans = span.pointee.next
      }
      span.pointee.next?.pointee.previous = span.pointee.previous
      if span.pointee.isWithheld {
        core.pointee.withheldSpans -= 1
        core.pointee.withheldBytes -= byteCount
        core.pointee.withheldResidentBytes -= span.pointee.residentBytes
      }
      core.pointee.liveSpans -= 1
    }
    if span.pointee.isWithheld {
      regions_counter_add(regions_counter_withheld_spans, -1)
      regions_counter_add(regions_counter_withheld_bytes, -byteCount)
      regions_counter_add(regions_counter_withheld_resident_bytes, -span.pointee.residentBytes)
    }
    regions_counter_add(regions_counter_spans, -1)
    regions_counter_add(regions_counter_span_bytes, -byteCount)
    switch span.pointee.source {
    case .pages:
      _SpanTable.set(base, byteCount: byteCount, to: nil)
      if span.pointee.hasProtections { _ = regions_os_protect(base, byteCount, true) }
      if !_PageCache.keep(base, byteCount: byteCount) {
        _AddressSpace.give(base, byteCount: byteCount)
      }
    case .outerRegion:
      // The pages become the enclosing region's block again, and go back to it.
      setOwner(base, byteCount: byteCount, to: span.pointee.outerSpan)
      if !regions_in_reservation(base) { regions_hook_foreign_spans_add(-1) }
      if span.pointee.hasProtections { _ = regions_os_protect(base, byteCount, true) }
      _ = _Hook.deallocate(base)
    case .ground:
      setOwner(base, byteCount: byteCount, to: nil)
      regions_hook_foreign_spans_add(-1)
      if span.pointee.hasProtections { _ = regions_os_protect(base, byteCount, true) }
      regions_ground_free(base)
    }
    span.deinitialize(count: 1)
    regions_ground_free(span)
    core.withSpansLock { core.pointee.references -= 1 }
  }
}
