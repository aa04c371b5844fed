import RegionMacrosSupport

/// Maps every page of the reservation to the span that holds it, so that a free (or a
/// realloc, or malloc_usable_size) finds a block's owner from its address with one load: the
/// page's entry in one flat table (`regions_span_entries`, mapped with the reservation),
/// indexed by the page's distance from the reservation's start.
///
/// The table has a word per 4 KiB page of the reservation (2 GiB of address space for the
/// 1 TiB range), touched only where spans exist: 4 KiB of table covers 2 MiB of region pages.
/// Pages outside the reservation (a region's page blocks from the ground) are in `_PageMap`.
enum _SpanTable {
  static let pageShift = 12

  /// The entry of the page holding `address`, which lies in the reservation.
  @inline(__always)
  static func entry(_ address: UnsafeRawPointer) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
    let index = (UInt(bitPattern: address) &- regions_reservation_base()) >> UInt(pageShift)
    return regions_span_table()! + Int(bitPattern: index)
  }

  /// The span holding `address` (in the reservation), if any.
  @inline(__always)
  static func span(containing address: UnsafeRawPointer) -> _SpanPointer? {
    regions_atomic_load_relaxed_pointer(entry(address))?.assumingMemoryBound(to: _Span.self)
  }

  /// Points every page of `[base, base + byteCount)` (in the reservation) at `span`.
  static func set(_ base: UnsafeRawPointer, byteCount: Int, to span: _SpanPointer?) {
    let first = entry(base)
    let pages = (byteCount + (1 << pageShift) - 1) >> pageShift
    let value = span.map { UnsafeMutableRawPointer($0) }
    for page in 0..<pages { regions_atomic_store_pointer(first + page, value) }
  }
}
