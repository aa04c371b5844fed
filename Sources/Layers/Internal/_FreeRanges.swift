/// An address-ordered list of free address ranges, kept in the free memory itself: each range
/// starts with a 16-byte node (the next range's address, this range's size). Used by ``Sbrk``
/// and ``FreeList``.
///
/// Ranges start on 16-byte boundaries and are multiples of 16 bytes. Inserting a range
/// coalesces it with free neighbours; taking memory is first fit. Every operation walks the
/// list from its lowest address: O(ranges).
@usableFromInline
internal struct _FreeRanges {
  /// The lowest free range, or 0 when none.
  @usableFromInline var _head: UInt = 0
  /// Free ranges in the list.
  @usableFromInline var count = 0
  /// Bytes in the free ranges.
  @usableFromInline var bytes = 0

  @inlinable init() {}

  @inlinable @inline(__always)
  static func next(_ range: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: range).unsafelyUnwrapped.load(as: UInt.self)
  }

  @inlinable @inline(__always)
  static func size(_ range: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: range).unsafelyUnwrapped.load(fromByteOffset: 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  static func setNode(_ range: UInt, next: UInt, size: UInt) {
    let node = UnsafeMutableRawPointer(bitPattern: range).unsafelyUnwrapped
    node.storeBytes(of: next, as: UInt.self)
    node.storeBytes(of: size, toByteOffset: 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  static func setNext(_ range: UInt, _ next: UInt) {
    UnsafeMutableRawPointer(bitPattern: range).unsafelyUnwrapped.storeBytes(of: next, as: UInt.self)
  }

  /// Links `range` after `previous` (or at the head when `previous` is 0).
  @inlinable @inline(__always)
  mutating func _link(_ range: UInt, after previous: UInt) {
    if previous == 0 { _head = range } else { Self.setNext(previous, range) }
  }

  /// Removes `byteCount` bytes aligned to `alignment` from the first range that holds them,
  /// and returns their address; the bytes before and after stay free. Nil when no range fits.
  ///
  /// - Requires: `byteCount` a positive multiple of 16, `alignment` a power of two ≥ 16.
  @inlinable
  mutating func take(byteCount: Int, alignment: Int) -> UInt? {
    let size = UInt(byteCount)
    let mask = UInt(alignment) &- 1
    var previous: UInt = 0
    var range = _head
    while range != 0 {
      let rangeSize = Self.size(range)
      let end = range &+ rangeSize
      let start = (range &+ mask) & ~mask
      if start >= range && start <= end && end &- start >= size {
        let next = Self.next(range)
        let tail = end &- (start &+ size)
        var after = previous
        if start > range {
          Self.setNode(range, next: next, size: start &- range)
          after = range
        } else {
          _link(next, after: previous)
          count &-= 1
        }
        if tail > 0 {
          Self.setNode(start &+ size, next: next, size: tail)
          _link(start &+ size, after: after)
          count &+= 1
        }
        bytes &-= byteCount
        return start
      }
      previous = range
      range = Self.next(range)
    }
    return nil
  }

  /// Adds `[start, start + byteCount)` to the free ranges, merging it with the free ranges
  /// just below and above, and returns the merged range. Stops the program when the bytes
  /// overlap a free range (a double free, or a pointer that was never handed out).
  ///
  /// - Requires: `start` 16-byte aligned, `byteCount` a positive multiple of 16.
  @inlinable
  @discardableResult
  mutating func insert(start: UInt, byteCount: Int) -> (start: UInt, end: UInt) {
    let end = start &+ UInt(byteCount)
    var previous: UInt = 0
    var next = _head
    while next != 0 && next < start {
      previous = next
      next = Self.next(next)
    }
    if _slowPath(
      (previous != 0 && previous &+ Self.size(previous) > start) || (next != 0 && next < end))
    {
      _overlap(start, byteCount)
    }
    bytes &+= byteCount
    var mergedStart = start
    var mergedEnd = end
    var after = previous
    if previous != 0 && previous &+ Self.size(previous) == start {
      mergedStart = previous
      after = previous
    } else {
      count &+= 1
    }
    var following = next
    if next != 0 && next == end {
      mergedEnd = next &+ Self.size(next)
      following = Self.next(next)
      count &-= 1
    }
    Self.setNode(mergedStart, next: following, size: mergedEnd &- mergedStart)
    if mergedStart != previous { _link(mergedStart, after: after) }
    return (mergedStart, mergedEnd)
  }

  @usableFromInline @inline(never)
  internal func _overlap(_ start: UInt, _ byteCount: Int) -> Never {
    fatalError(
      "Regions: the block at 0x\(String(start, radix: 16)) (\(byteCount) bytes) overlaps memory that is already free: a double free, a wrong byteCount, or a pointer this layer did not hand out"
    )
  }

  /// Removes the whole free range that starts at `start`. Returns false if there is none.
  @inlinable
  @discardableResult
  mutating func remove(start: UInt) -> Bool {
    var previous: UInt = 0
    var range = _head
    while range != 0 && range < start {
      previous = range
      range = Self.next(range)
    }
    guard range == start && range != 0 else { return false }
    _link(Self.next(range), after: previous)
    count &-= 1
    bytes &-= Int(Self.size(range))
    return true
  }

  /// The free range with the highest address, if any.
  @inlinable
  var last: (start: UInt, end: UInt)? {
    var range = _head
    guard range != 0 else { return nil }
    while Self.next(range) != 0 { range = Self.next(range) }
    return (range, range &+ Self.size(range))
  }

  /// Calls `body` with every free range, lowest address first. `body` must not change them.
  @inlinable
  func forEach(_ body: (_ start: UInt, _ end: UInt) -> Void) {
    var range = _head
    while range != 0 {
      let next = Self.next(range)
      body(range, range &+ Self.size(range))
      range = next
    }
  }
}
