import RegionMacrosSupport

/// Pages the runtime keeps after a region gave them back, so that the next region reuses
/// them instead of committing fresh pages (each first touch of a fresh page is a page fault,
/// which costs more than zeroing a resident page). Ranges of the reservation.
///
/// At most `capacity` ranges and `byteLimit` bytes are kept; more go back to the OS at once.
/// A range is handed out again only for the same size and a compatible alignment, and zeroed
/// first when the taker asks (`Mmap.allocate`, which promises zeroed memory; not
/// `Mmap.allocateUncleared`, which carving layers and the region's `malloc` call).
/// `Region.releaseCachedPages()` empties the cache.
enum _PageCache {
  static let capacity = 64
  static let byteLimit = 64 << 20

  struct Entry {
    var base: UnsafeMutableRawPointer
    var byteCount: Int
  }

  /// In ground memory: a stable address for the atomic lock word.
  nonisolated(unsafe) static var lock: UnsafeMutablePointer<regions_lock_t>? = nil
  nonisolated(unsafe) static var entries: UnsafeMutablePointer<Entry>? = nil
  nonisolated(unsafe) static var count = 0
  nonisolated(unsafe) static var bytes = 0

  static func start() {
    if entries != nil { return }
    let lockMemory = _groundAllocate(MemoryLayout<regions_lock_t>.size)
      .bindMemory(to: regions_lock_t.self, capacity: 1)
    lockMemory.initialize(to: regions_lock_t())
    lock = lockMemory
    entries = _groundAllocate(capacity * MemoryLayout<Entry>.stride)
      .bindMemory(to: Entry.self, capacity: capacity)
  }

  @inline(__always)
  static func withLock<R>(_ body: () -> R) -> R {
    let lock = lock.unsafelyUnwrapped
    regions_lock_acquire(lock)
    defer { regions_lock_release(lock) }
    return body()
  }

  /// Keeps pages for reuse; false when the cache is full (the caller gives them back).
  static func keep(_ base: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
    guard let entries else { return false }
    return withLock {
      guard count < capacity, bytes + byteCount <= byteLimit else { return false }
      entries[count] = Entry(base: base, byteCount: byteCount)
      count += 1
      bytes += byteCount
      regions_counter_add(regions_counter_cached_bytes, byteCount)
      return true
    }
  }

  /// Pages of exactly `byteCount` bytes aligned to `alignment`, if cached; zeroed if `cleared`.
  static func take(byteCount: Int, alignment: Int, cleared: Bool) -> UnsafeMutableRawPointer? {
    guard let entries else { return nil }
    let found: UnsafeMutableRawPointer? = withLock {
      var index = count - 1
      while index >= 0 {
        let entry = entries[index]
        if entry.byteCount == byteCount && Int(bitPattern: entry.base) & (alignment - 1) == 0 {
          count -= 1
          entries[index] = entries[count]
          bytes -= byteCount
          regions_counter_add(regions_counter_cached_bytes, -byteCount)
          return entry.base
        }
        index -= 1
      }
      return nil
    }
    if cleared { found?.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
    return found
  }

  /// Gives every cached page back to the OS.
  static func releaseAll() {
    guard let entries else { return }
    withLock {
      for index in 0..<count {
        _AddressSpace.give(entries[index].base, byteCount: entries[index].byteCount)
      }
      count = 0
      regions_counter_add(regions_counter_cached_bytes, -bytes)
      bytes = 0
    }
  }
}
