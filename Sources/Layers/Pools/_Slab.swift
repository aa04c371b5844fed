/// One of ``Bonwick``'s fourteen buckets: the heads of its slab lists.
///
/// Partial and full slabs are doubly linked through their headers; cached empty slabs are
/// singly linked through `next`.
@usableFromInline
internal struct _SlabBucket {
  @usableFromInline var partial: UInt = 0
  @usableFromInline var full: UInt = 0
  @usableFromInline var cached: UInt = 0
  @usableFromInline var cachedCount = 0

  @inlinable init() {}

  /// Buckets: 16 B, 32 B, … 128 KiB.
  @inlinable static var count: Int { 14 }
  @inlinable static var largestSize: Int { 16 << 13 }

  /// The bucket serving a request, or nil when it is larger than the largest bucket.
  @inlinable @inline(__always)
  static func index(byteCount: Int, alignment: Int) -> Int? {
    let needed = Swift.max(byteCount, alignment, 16)
    if _slowPath(needed > largestSize) { return nil }
    return (Int.bitWidth &- (needed &- 1).leadingZeroBitCount) &- 4
  }

  /// The block size of a bucket.
  @inlinable @inline(__always)
  static func blockSize(_ bucket: Int) -> Int { 16 &<< bucket }

  /// The slab size of a bucket: max(64 KiB, 8 blocks). Slabs are aligned to their size.
  @inlinable @inline(__always)
  static func slabSize(_ bucket: Int) -> Int { Swift.max(1 &<< 16, 1 &<< (bucket &+ 7)) }

  /// Where the first block of a slab starts: after the header, at a multiple of the block size.
  @inlinable @inline(__always)
  static func firstOffset(_ bucket: Int) -> Int { Swift.max(_Slab.headerSize, blockSize(bucket)) }

  /// Blocks per slab.
  @inlinable @inline(__always)
  static func capacity(_ bucket: Int) -> Int {
    (slabSize(bucket) &- firstOffset(bucket)) &>> (bucket &+ 4)
  }
}

/// The header at the start of every ``Bonwick`` slab, read through the slab's address.
///
/// Layout: magic (with the bucket in its low byte), the free-block list, the bump cursor
/// (the first block never handed out), the count of blocks in use, and the slab list links.
@usableFromInline
internal enum _Slab {
  @inlinable static var headerSize: Int { 64 }
  @inlinable static var magic: UInt { 0xB0A1_C5_1AB5_1AB_00 }

  @inlinable @inline(__always)
  static func _word(_ slab: UInt, _ index: Int) -> UInt {
    UnsafeRawPointer(bitPattern: slab).unsafelyUnwrapped.load(
      fromByteOffset: index &* 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  static func _setWord(_ slab: UInt, _ index: Int, _ value: UInt) {
    UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped.storeBytes(
      of: value, toByteOffset: index &* 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  static func next(_ slab: UInt) -> UInt { _word(slab, 4) }
  @inlinable @inline(__always)
  static func setNext(_ slab: UInt, _ next: UInt) { _setWord(slab, 4, next) }

  /// Makes `slab` an empty slab of `bucket`.
  @inlinable
  static func initialize(_ slab: UInt, bucket: Int) {
    _setWord(slab, 0, magic | UInt(bucket))
    _setWord(slab, 1, 0)
    _setWord(slab, 2, slab &+ UInt(_SlabBucket.firstOffset(bucket)))
    _setWord(slab, 3, 0)
    _setWord(slab, 4, 0)
    _setWord(slab, 5, 0)
  }

  /// Whether the header at `slab` is a slab of `bucket`.
  @inlinable @inline(__always)
  static func belongs(_ slab: UInt, bucket: Int) -> Bool { _word(slab, 0) == magic | UInt(bucket) }

  @inlinable @inline(__always)
  static func isFull(_ slab: UInt, bucket: Int) -> Bool {
    Int(bitPattern: _word(slab, 3)) == _SlabBucket.capacity(bucket)
  }

  @inlinable @inline(__always)
  static func isEmpty(_ slab: UInt) -> Bool { _word(slab, 3) == 0 }

  /// Hands out a block of a slab that is not full: a freed one first, else a new one.
  @inlinable @inline(__always)
  static func pop(_ slab: UInt, bucket: Int) -> UInt {
    var block = _word(slab, 1)
    if block != 0 {
      _setWord(slab, 1, UnsafeRawPointer(bitPattern: block).unsafelyUnwrapped.load(as: UInt.self))
    } else {
      block = _word(slab, 2)
      _setWord(slab, 2, block &+ UInt(_SlabBucket.blockSize(bucket)))
    }
    _setWord(slab, 3, _word(slab, 3) &+ 1)
    return block
  }

  /// Takes a block back onto its slab's free list.
  @inlinable @inline(__always)
  static func push(_ block: UInt, slab: UInt) {
    UnsafeMutableRawPointer(bitPattern: block).unsafelyUnwrapped.storeBytes(
      of: _word(slab, 1), as: UInt.self)
    _setWord(slab, 1, block)
    _setWord(slab, 3, _word(slab, 3) &- 1)
  }

  /// Puts `slab` at the front of the doubly linked list at `head`.
  @inlinable @inline(__always)
  static func link(_ slab: UInt, to head: inout UInt) {
    _setWord(slab, 4, head)
    _setWord(slab, 5, 0)
    if head != 0 { _setWord(head, 5, slab) }
    head = slab
  }

  /// Takes `slab` out of the doubly linked list at `head`.
  @inlinable @inline(__always)
  static func unlink(_ slab: UInt, from head: inout UInt) {
    let next = _word(slab, 4)
    let previous = _word(slab, 5)
    if next != 0 { _setWord(next, 5, previous) }
    if previous != 0 { _setWord(previous, 4, next) } else { head = next }
  }
}

/// ``Bonwick``'s counters, in one place.
@usableFromInline
internal struct _SlabCounters {
  @usableFromInline var slabs = 0
  @usableFromInline var cachedSlabs = 0
  @usableFromInline var slabsRequested = 0
  @usableFromInline var slabsReturned = 0
  @usableFromInline var bigCacheHits = 0

  @inlinable init() {}
}
