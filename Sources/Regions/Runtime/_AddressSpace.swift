import RegionMacrosSupport

/// Hands out page ranges of the reservation to spans, and takes them back.
///
/// A range is committed (made read-write) when it is handed out and decommitted (its memory
/// dropped, inaccessible again) when it comes back, so address space that no span holds costs
/// nothing. Free ranges are kept sorted and coalesced; a request takes the first that fits
/// (aligned), else the untouched end of the reservation. All under one lock: spans come and go
/// far less often than blocks.
enum _AddressSpace {
  struct Range {
    var start: UInt
    var byteCount: UInt
  }

  /// In ground memory: a stable address for the atomic lock word.
  nonisolated(unsafe) static var lock: UnsafeMutablePointer<regions_lock_t>? = nil
  /// The first byte never handed out.
  nonisolated(unsafe) static var frontier: UInt = 0
  nonisolated(unsafe) static var ranges: UnsafeMutablePointer<Range>? = nil
  nonisolated(unsafe) static var count = 0
  nonisolated(unsafe) static var capacity = 0

  static func start() {
    if lock != nil { return }
    let memory = _groundAllocate(MemoryLayout<regions_lock_t>.size)
      .bindMemory(to: regions_lock_t.self, capacity: 1)
    memory.initialize(to: regions_lock_t())
    lock = memory
    frontier = UInt(regions_reservation_base()) + UInt(regions_bootstrap_size)
  }

  static var end: UInt { UInt(regions_reservation_base()) + UInt(regions_reservation_size()) }

  /// A committed, zeroed range of `byteCount` bytes (a page multiple) aligned to `alignment`,
  /// or nil when the reservation has no room or the OS refuses to commit.
  static func take(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let size = UInt(byteCount)
    let mask = UInt(Swift.max(alignment, Int(regions_page_size()))) &- 1
    regions_lock_acquire(lock)
    var found: UInt = 0
    var index = 0
    while index < count {
      let range = ranges.unsafelyUnwrapped[index]
      let start = (range.start &+ mask) & ~mask
      if start &+ size <= range.start &+ range.byteCount && start >= range.start {
        found = start
        remove(index, start: start, byteCount: size)
        break
      }
      index += 1
    }
    if found == 0 {
      let start = (frontier &+ mask) & ~mask
      if start >= frontier && size <= end &- start {
        if start > frontier { insert(Range(start: frontier, byteCount: start &- frontier)) }
        frontier = start &+ size
        found = start
      }
    }
    regions_lock_release(lock)
    guard found != 0, let range = UnsafeMutableRawPointer(bitPattern: found) else { return nil }
    if regions_os_commit(range, byteCount) != 0 {
      give(range, byteCount: byteCount)
      return nil
    }
    return range
  }

  /// Takes back a range from `take`: its memory goes back to the OS.
  static func give(_ base: UnsafeMutableRawPointer, byteCount: Int) {
    _ = regions_os_decommit(base, byteCount)
    regions_lock_acquire(lock)
    insert(Range(start: UInt(bitPattern: base), byteCount: UInt(byteCount)))
    regions_lock_release(lock)
  }

  /// Splits range `index` around the taken part `[start, start + byteCount)`.
  private static func remove(_ index: Int, start: UInt, byteCount: UInt) {
    let range = ranges.unsafelyUnwrapped[index]
    let head = Range(start: range.start, byteCount: start &- range.start)
    let tailStart = start &+ byteCount
    let tail = Range(start: tailStart, byteCount: range.start &+ range.byteCount &- tailStart)
    removeAt(index)
    if head.byteCount > 0 { insert(head) }
    if tail.byteCount > 0 { insert(tail) }
  }

  private static func removeAt(_ index: Int) {
    let base = ranges.unsafelyUnwrapped
    (base + index).update(from: base + index + 1, count: count - index - 1)
    count -= 1
  }

  /// Inserts a free range in address order, merging it with its neighbours.
  private static func insert(_ range: Range) {
    var range = range
    if range.start &+ range.byteCount == frontier {
      frontier = range.start
      // The range before may now end at the frontier too.
      if count > 0, let last = ranges?[count - 1], last.start &+ last.byteCount == frontier {
        frontier = last.start
        count -= 1
      }
      return
    }
    var index = 0
    while index < count && ranges.unsafelyUnwrapped[index].start < range.start { index += 1 }
    if index > 0 {
      let before = ranges.unsafelyUnwrapped[index - 1]
      if before.start &+ before.byteCount == range.start {
        range = Range(start: before.start, byteCount: before.byteCount &+ range.byteCount)
        index -= 1
        removeAt(index)
      }
    }
    if index < count {
      let after = ranges.unsafelyUnwrapped[index]
      if range.start &+ range.byteCount == after.start {
        range.byteCount &+= after.byteCount
        removeAt(index)
      }
    }
    grow()
    let base = ranges.unsafelyUnwrapped
    (base + index + 1).moveInitialize(from: base + index, count: count - index)
    (base + index).initialize(to: range)
    count += 1
  }

  /// Room for one more range (ground memory; the lock is held).
  private static func grow() {
    guard count == capacity else { return }
    let newCapacity = Swift.max(64, capacity * 2)
    let fresh = _groundAllocate(newCapacity * MemoryLayout<Range>.stride)
      .bindMemory(to: Range.self, capacity: newCapacity)
    if let old = ranges {
      fresh.moveInitialize(from: old, count: count)
      regions_ground_free(old)
    }
    ranges = fresh
    capacity = newCapacity
  }
}
