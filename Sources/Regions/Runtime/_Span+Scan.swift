import RegionMacrosSupport

extension _Spans {
  struct ScanResult {
    var liveBlocks = 0
    var residentBytes = 0
  }

  /// Finds the live blocks in a span its stack gave back, and gives the OS the pages that hold
  /// none: withheld memory is then what the live blocks occupy, not the whole span.
  ///
  /// Every block the hook serves has a header (`_BlockHeader`) 16 bytes before the program's
  /// pointer, on a 16-byte boundary, so the scan reads one word per 16 bytes. Pages the span
  /// table gives to another span (an inner region's pages carved out of this one) are skipped:
  /// they are that span's. Runs when a region's stack gives back pages while it has live
  /// blocks: at the end of a scope that leaves objects behind, rarely otherwise.
  static func scan(_ span: _SpanPointer, discarding: Bool = true) -> ScanResult {
    let page = Int(regions_page_size())
    let base = UInt(bitPattern: span.pointee.base)
    let end = base + UInt(span.pointee.byteCount)
    var result = ScanResult()
    // The pages [keptUntil, …) hold no live byte found so far; [deadStart, pageStart) is a run
    // of such pages waiting to be given back.
    var keptUntil = base
    var deadStart: UInt? = nil
    var pageStart = base
    while pageStart < end {
      let pageEnd = pageStart + UInt(page)
      let mine = ownsPage(span, pageStart)
      if mine && readable(span, pageStart, page) {
        var header = pageStart
        while header < pageEnd {
          if _BlockHeader.looksLive(
            UnsafeRawPointer(bitPattern: header).unsafelyUnwrapped, limit: end)
          {
            let byteCount = UnsafeRawPointer(bitPattern: header).unsafelyUnwrapped.load(
              as: UInt.self)
            let blockEnd = header + 16 + Swift.max(byteCount, UInt(_BlockHeader.minimumTail))
            result.liveBlocks += 1
            keptUntil = Swift.max(keptUntil, blockEnd)
          }
          header += 16
        }
      }
      let holdsLive = !mine || keptUntil > pageStart
      if holdsLive {
        if discarding, let start = deadStart { discard(start, pageStart) }
        deadStart = nil
        if mine { result.residentBytes += page }
      } else if deadStart == nil {
        deadStart = pageStart
      }
      pageStart = pageEnd
    }
    if discarding, result.liveBlocks > 0, let start = deadStart { discard(start, end) }
    return result
  }

  /// Live blocks of a region: its spans' counts, or, for a region that keeps none (over a
  /// thread-safe stack), found by scanning the spans not withheld. Requires the region's lock.
  static func countLive(_ core: _Core) -> Int {
    var count = 0
    var span = core.withSpansLock { core.pointee.spans }
    while let current = span {
      if current.pointee.isWithheld || !core.pointee.isLockless {
        count += current.pointee.liveBlocks
      } else {
        count += scan(current, discarding: false).liveBlocks
      }
      span = core.withSpansLock { current.pointee.next }
    }
    return count
  }

  /// Whether the span table (or page map) gives the page at `address` to `span`.
  private static func ownsPage(_ span: _SpanPointer, _ address: UInt) -> Bool {
    _span(containing: UnsafeRawPointer(bitPattern: address).unsafelyUnwrapped) == span
  }

  /// Whether the page can be read: always, unless a layer changed protections in the span; then
  /// the page is probed without faulting.
  private static func readable(_ span: _SpanPointer, _ address: UInt, _ page: Int) -> Bool {
    guard span.pointee.hasProtections else { return true }
    var byte: UInt8 = 0
    return regions_safe_read(UnsafeRawPointer(bitPattern: address), &byte, 1)
  }

  private static func discard(_ start: UInt, _ end: UInt) {
    guard end > start else { return }
    _ = regions_os_discard(UnsafeMutableRawPointer(bitPattern: start), Int(end - start))
  }
}
