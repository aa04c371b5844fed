/// A hash set of live blocks (address → byteCount, alignment) whose storage comes from a
/// parent layer, never from malloc. Used by ``Batch`` and ``Check``.
///
/// Open addressing with linear probing and backward-shift deletion; the load factor stays at
/// or below one half. Entries are 16 bytes: the address and `byteCount << 6 | log2(alignment)`.
@usableFromInline
internal struct _BlockTable {
  @usableFromInline
  internal struct Entry {
    @usableFromInline var address: UInt
    @usableFromInline var info: UInt

    @inlinable var byteCount: Int { Int(bitPattern: info >> 6) }
    @inlinable var alignment: Int { 1 << Int(info & 63) }

    @inlinable
    init(address: UInt, byteCount: Int, alignment: Int) {
      self.address = address
      self.info = UInt(byteCount) << 6 | UInt(alignment.trailingZeroBitCount)
    }
  }

  @usableFromInline var _entries: UnsafeMutablePointer<Entry>? = nil
  /// A power of two, or 0 before the first insertion.
  @usableFromInline var _capacity = 0
  @usableFromInline var _count = 0

  @inlinable init() {}

  /// Live blocks in the table.
  @inlinable var count: Int { _count }

  /// Bytes of table storage held from the parent.
  @inlinable var storageBytes: Int { _capacity * MemoryLayout<Entry>.stride }

  @inlinable @inline(__always)
  func _home(_ address: UInt) -> Int {
    // Fibonacci hashing of the address without its always-zero low bits.
    Int(truncatingIfNeeded: ((address >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 20) & (_capacity &- 1)
  }

  /// Makes room for one more entry, growing the storage from `parent` if needed.
  /// Returns false when the parent cannot supply it.
  @inlinable @inline(__always)
  mutating func reserveOne<Parent: Layer>(parent: inout Parent) -> Bool {
    if _fastPath((_count &+ 1) &* 2 <= _capacity) { return true }
    return _grow(parent: &parent)
  }

  @inlinable @inline(never)
  mutating func _grow<Parent: Layer>(parent: inout Parent) -> Bool {
    let newCapacity = Swift.max(256, _capacity * 2)
    let bytes = newCapacity * MemoryLayout<Entry>.stride
    guard let raw = parent.allocate(byteCount: bytes, alignment: 16) else { return false }
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    let newEntries = raw.assumingMemoryBound(to: Entry.self)
    let old = (_entries, _capacity)
    _entries = newEntries
    _capacity = newCapacity
    _count = 0
    if let oldEntries = old.0 {
      for index in 0..<old.1 where oldEntries[index].address != 0 {
        _insertKnownAbsent(oldEntries[index])
      }
      parent.deallocate(
        UnsafeMutableRawPointer(oldEntries), byteCount: old.1 * MemoryLayout<Entry>.stride,
        alignment: 16)
    }
    return true
  }

  @inlinable @inline(__always)
  mutating func _insertKnownAbsent(_ entry: Entry) {
    let entries = _entries.unsafelyUnwrapped
    var index = _home(entry.address)
    while entries[index].address != 0 { index = (index &+ 1) & (_capacity &- 1) }
    entries[index] = entry
    _count &+= 1
  }

  /// Inserts a block. Requires a prior successful `reserveOne` and an address not present.
  @inlinable @inline(__always)
  mutating func insert(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    _insertKnownAbsent(
      Entry(address: UInt(bitPattern: pointer), byteCount: byteCount, alignment: alignment))
  }

  @inlinable @inline(__always)
  func _index(of address: UInt) -> Int? {
    guard let entries = _entries else { return nil }
    var index = _home(address)
    while true {
      let found = entries[index].address
      if found == address { return index }
      if found == 0 { return nil }
      index = (index &+ 1) & (_capacity &- 1)
    }
  }

  /// Removes `pointer` and returns its entry, or nil if it is not live.
  @inlinable
  mutating func remove(_ pointer: UnsafeMutableRawPointer) -> Entry? {
    guard var hole = _index(of: UInt(bitPattern: pointer)) else { return nil }
    let entries = _entries.unsafelyUnwrapped
    let removed = entries[hole]
    let mask = _capacity &- 1
    // Backward-shift deletion: pull later entries of the probe run into the hole.
    var next = (hole &+ 1) & mask
    while entries[next].address != 0 {
      let home = _home(entries[next].address)
      // Move `next` into `hole` unless its home lies cyclically in (hole, next].
      let distanceToNext = (next &- home) & mask
      let distanceToHole = (hole &- home) & mask
      if distanceToHole < distanceToNext {
        entries[hole] = entries[next]
        hole = next
      }
      next = (next &+ 1) & mask
    }
    entries[hole] = Entry(address: 0, byteCount: 0, alignment: 1)
    _count &-= 1
    return removed
  }

  /// Calls `body` with every live entry, in table order.
  @inlinable
  func forEach(_ body: (Entry) -> Void) {
    guard let entries = _entries else { return }
    for index in 0..<_capacity where entries[index].address != 0 { body(entries[index]) }
  }

  /// A block from `parent`, booked here; nil when the parent refuses the block or room for
  /// the booking. From the parent's `allocate` when `cleared` (for a layer that forwards its
  /// parent's zeroed-memory promise), else from its `allocateUncleared`.
  @inlinable
  mutating func allocateBooked<Parent: Layer>(
    byteCount: Int, alignment: Int, cleared: Bool, from parent: inout Parent
  ) -> UnsafeMutableRawPointer? {
    guard reserveOne(parent: &parent) else { return nil }
    guard
      let block = parent._allocateBlock(
        byteCount: byteCount, alignment: alignment, cleared: cleared)
    else { return nil }
    insert(block, byteCount: byteCount, alignment: alignment)
    return block
  }

  /// Gives a block booked by `allocateBooked` back to `parent`; false, doing nothing, when
  /// `pointer` is not booked here.
  @inlinable
  mutating func deallocateBooked<Parent: Layer>(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int, to parent: inout Parent
  ) -> Bool {
    guard remove(pointer) != nil else { return false }
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    return true
  }

  /// Stops the program: `layer` was asked to deallocate `pointer` as a large block (one it
  /// books in a table like this) and has no such block.
  @usableFromInline @inline(never)
  static func _notALargeBlock(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, layer: Any.Type
  ) -> Never {
    fatalError(
      "Regions: \(layer) was asked to deallocate \(pointer) (\(byteCount) bytes) as a large block, but it is not a live large block of this layer"
    )
  }

  /// Deallocates every booked block to `parent`, then gives the storage back to it.
  @inlinable
  mutating func deallocateAll<Parent: Layer>(to parent: inout Parent) {
    forEach { entry in
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped,
        byteCount: entry.byteCount, alignment: entry.alignment)
    }
    release(parent: &parent)
  }

  /// Forgets every entry and gives the storage back to `parent`.
  @inlinable
  mutating func release<Parent: Layer>(parent: inout Parent) {
    if let entries = _entries {
      parent.deallocate(
        UnsafeMutableRawPointer(entries), byteCount: storageBytes, alignment: 16)
    }
    self = _BlockTable()
  }
}
