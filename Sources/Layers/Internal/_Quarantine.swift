/// A first-in, first-out ring of freed blocks (address, byteCount, alignment) waiting to be
/// given back, with storage from a parent layer, never from malloc. Used by ``Guard``.
@usableFromInline
internal struct _Quarantine {
  @usableFromInline typealias Entry = _BlockTable.Entry

  @usableFromInline var _entries: UnsafeMutablePointer<Entry>? = nil
  /// Entries the storage holds (0 before the first push).
  @usableFromInline var _capacity = 0
  /// Index of the oldest entry.
  @usableFromInline var _oldest = 0
  @usableFromInline var _count = 0
  /// Bytes the quarantined blocks hold (as their owner counts them).
  @usableFromInline var _bytes = 0

  @inlinable init() {}

  @inlinable var count: Int { _count }
  @inlinable var bytes: Int { _bytes }

  /// Adds a block, taking room for `capacity` entries from `parent` on first use. Returns
  /// false (and adds nothing) when there is no room: full, or the parent refused.
  @inlinable
  mutating func push<Parent: Layer>(
    _ entry: Entry, bytes: Int, capacity: Int, parent: inout Parent
  ) -> Bool {
    if _entries == nil {
      guard capacity > 0,
        let raw = parent.allocate(
          byteCount: capacity * MemoryLayout<Entry>.stride, alignment: 16)
      else { return false }
      _entries = raw.bindMemory(to: Entry.self, capacity: capacity)
      _capacity = capacity
    }
    guard _count < _capacity else { return false }
    _entries.unsafelyUnwrapped[(_oldest + _count) % _capacity] = entry
    _count += 1
    _bytes += bytes
    return true
  }

  /// Removes and returns the oldest block. Requires `count > 0`.
  @inlinable
  mutating func popOldest(bytes: (Entry) -> Int) -> Entry {
    let entry = _entries.unsafelyUnwrapped[_oldest]
    _oldest = (_oldest + 1) % _capacity
    _count -= 1
    _bytes -= bytes(entry)
    return entry
  }

  /// Gives the storage back to `parent`. Requires `count == 0`.
  @inlinable
  mutating func release<Parent: Layer>(parent: inout Parent) {
    if let entries = _entries {
      parent.deallocate(
        UnsafeMutableRawPointer(entries), byteCount: _capacity * MemoryLayout<Entry>.stride,
        alignment: 16)
    }
    self = _Quarantine()
  }
}
