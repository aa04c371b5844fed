import RegionMacrosSupport

/// Maps every page of a region span to its span record, so that a free (or a realloc, or
/// malloc_usable_size) finds the block's owner from the address alone.
///
/// Two levels over the 47-bit user address space: a directory of 2^17 leaves, one per GiB,
/// each leaf 2^18 words (one per 4 KiB page). Leaves are mapped on first use and never
/// unmapped (untouched parts cost no memory). A lookup is two dependent loads.
enum _PageMap {
  static let pageShift = 12
  static let leafShift = 30
  static let leafEntries = 1 << (leafShift - pageShift)
  static let directoryEntries = 1 << (47 - leafShift)

  /// Mapped by `start()` before any region opens. A constant-initialized global, so the hook
  /// path reads it without a `swift_once` check.
  nonisolated(unsafe) static var _directory: UnsafeMutablePointer<UnsafeMutableRawPointer?>? = nil

  @inline(__always)
  static var directory: UnsafeMutablePointer<UnsafeMutableRawPointer?> {
    _directory.unsafelyUnwrapped
  }

  /// Maps the directory (once, before the first region opens).
  static func start() {
    if _directory != nil { return }
    let bytes = directoryEntries * MemoryLayout<UnsafeMutableRawPointer?>.stride
    guard let raw = regions_os_map(bytes, regions_page_size()) else {
      fatalError("Regions: cannot map the page map directory")
    }
    _directory = raw.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: directoryEntries)
  }

  /// The span whose pages contain `address`, if any.
  @inline(__always)
  static func span(containing address: UnsafeRawPointer) -> _SpanPointer? {
    let bits = UInt(bitPattern: address)
    guard bits >> 47 == 0, _directory != nil else { return nil }
    let slot = directory + Int(bits >> UInt(leafShift))
    guard let leaf = regions_atomic_load_pointer(slot) else { return nil }
    let entry =
      leaf.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
      + Int((bits >> UInt(pageShift)) & UInt(leafEntries - 1))
    guard let span = regions_atomic_load_pointer(entry) else { return nil }
    return span.assumingMemoryBound(to: _Span.self)
  }

  /// Points every page of `[base, base + byteCount)` at `span` (nil to clear).
  static func set(_ base: UnsafeRawPointer, byteCount: Int, to span: _SpanPointer?) {
    let first = UInt(bitPattern: base)
    if !(first >> 47 == 0) {
      AllocationRequest.stop("Regions: span address \(base) lies outside the 47-bit page map")
    }
    let pages = (byteCount + (1 << pageShift) - 1) >> pageShift
    let value = span.map { UnsafeMutableRawPointer($0) }
    for page in 0..<pages {
      let address = first + UInt(page << pageShift)
      let entry = leaf(for: address) + Int((address >> UInt(pageShift)) & UInt(leafEntries - 1))
      regions_atomic_store_pointer(entry, value)
    }
  }

  private static func leaf(for address: UInt) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
    let slot = directory + Int(address >> UInt(leafShift))
    if let leaf = regions_atomic_load_pointer(slot) {
      return leaf.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }
    let bytes = leafEntries * MemoryLayout<UnsafeMutableRawPointer?>.stride
    guard let fresh = regions_os_map(bytes, regions_page_size()) else {
      fatalError("Regions: cannot map a page map leaf")
    }
    if !regions_atomic_cas_pointer(slot, nil, fresh) { regions_os_unmap(fresh, bytes) }
    return regions_atomic_load_pointer(slot)!.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
  }
}
