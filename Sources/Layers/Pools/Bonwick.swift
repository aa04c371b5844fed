/// A slab allocator after Bonwick, as the Myrddin standard library (and the Myrddin region
/// library after it) has one: fourteen power-of-two buckets from 16 B to 128 KiB, each
/// carving its blocks out of slabs from the parent, and a small cache of large blocks.
///
/// ```swift
/// var heap = Stats { Bonwick { Mmap() } }
/// ```
///
/// - Buckets: a request of `n` bytes aligned to `a` goes to the bucket of the smallest power
///   of two ≥ max(n, a, 16). A bucket of size `s` takes slabs of max(64 KiB, 8·s) bytes, aligned
///   to their size, so the slab's 64-byte header is found by masking a block's address. Blocks
///   sit at multiples of `s` from the slab start, so each is aligned to `s`; the first slot
///   holds the header. Each bucket keeps its slabs on a partial and a full list; a slab that
///   becomes empty goes to the bucket's cache of empty slabs (``cachedSlabsPerBucket``, 2 by
///   default) and beyond that back to the parent.
/// - Large blocks: larger requests (or alignments above 128 KiB) get whole blocks from the
///   parent, rounded up to 4 KiB and aligned to at least 4 KiB, booked in a table whose
///   storage comes from the parent. A freed large block goes into the big cache
///   (``bigCacheCapacity`` entries, 8 by default, at most 16): a later request takes the first
///   cached block at least as large and at most twice as large. When the cache is full the
///   smallest block, the new one or a cached one, goes back to the parent.
/// - Memory overhead: one slot per slab (64 B to 128 KiB, 1/8 of the slab at worst) and up to
///   half of each block to power-of-two rounding; cached empty slabs and large blocks.
/// - Complexity: O(1) allocate and deallocate for bucketed sizes; an empty or new slab costs
///   one parent call. Large blocks: O(cache entries) plus a table operation and, on a miss,
///   a parent call. `reset` O(slabs + large blocks).
/// - Failure: returns nil when the parent refuses a slab, a large block or table storage.
/// - Bad input: requests failing ``AllocationRequest/validate(byteCount:alignment:)`` stop
///   the program; deallocating a small block whose masked header is not a slab of the bucket
///   its size names (a foreign pointer, a wrong `byteCount`), or a large block Bonwick did not
///   hand out, stops it with a message. Double frees of small blocks are not detected: put
///   ``Check`` above Bonwick to catch them.
public struct Bonwick<Parent: Layer>: WrappingLayer {
  /// The layer this one gets its memory from.
  public var parent: Parent
  /// Empty slabs each bucket keeps for reuse before giving them back to the parent.
  public let cachedSlabsPerBucket: Int
  /// Freed large blocks kept for reuse (at most 16).
  public let bigCacheCapacity: Int
  @usableFromInline internal var _buckets = InlineArray<14, _SlabBucket>(repeating: _SlabBucket())
  @usableFromInline internal var _bigCache = InlineArray<16, _BlockTable.Entry>(
    repeating: _BlockTable.Entry(address: 0, byteCount: 0, alignment: 1))
  @usableFromInline internal var _bigCacheCount = 0
  /// Live large blocks: address → the byteCount and alignment the parent was asked for.
  @usableFromInline internal var _bigBlocks = _BlockTable()
  @usableFromInline internal var _counters = _SlabCounters()

  /// Slabs held from the parent, including cached empty ones.
  public var slabCount: Int { _counters.slabs }
  /// Empty slabs held in the buckets' caches.
  public var cachedSlabCount: Int { _counters.cachedSlabs }
  /// Slabs requested from the parent so far (survives `reset`).
  public var slabsRequested: Int { _counters.slabsRequested }
  /// Empty slabs given back to the parent beyond the caches so far (survives `reset`).
  public var slabsReturned: Int { _counters.slabsReturned }
  /// Large blocks handed out and not yet deallocated.
  public var largeBlockCount: Int { _bigBlocks.count }
  /// Freed large blocks in the big cache.
  public var bigCacheCount: Int { _bigCacheCount }
  /// Large requests served from the big cache so far (survives `reset`).
  public var bigCacheHits: Int { _counters.bigCacheHits }

  /// A slab allocator over `parent`.
  ///
  /// - Parameters:
  ///   - cachedSlabsPerBucket: empty slabs each bucket keeps (0 or more).
  ///   - bigCacheCapacity: freed large blocks kept for reuse, 0 through 16.
  ///   - parent: where slabs and large blocks come from.
  /// - Precondition: the counts are in range; stops the program otherwise.
  @inlinable
  public init(
    cachedSlabsPerBucket: Int = 2, bigCacheCapacity: Int = 8,
    @LayerBuilder parent: () -> Parent
  ) {
    if !(cachedSlabsPerBucket >= 0) {
      AllocationRequest.stop("Regions: Bonwick's cachedSlabsPerBucket must not be negative")
    }
    if !((0...16).contains(bigCacheCapacity)) {
      AllocationRequest.stop("Regions: Bonwick's bigCacheCapacity must be 0 through 16")
    }
    self.cachedSlabsPerBucket = cachedSlabsPerBucket
    self.bigCacheCapacity = bigCacheCapacity
    self.parent = parent()
  }

  /// The largest bucket's block size: 128 KiB.
  public static var largestBucketSize: Int { _SlabBucket.largestSize }

  /// The size of the slab that serves a request, or nil when the request is large. The slab
  /// header of a block is at its address rounded down to a multiple of this size.
  @inlinable
  public static func slabSize(forByteCount byteCount: Int, alignment: Int) -> Int? {
    guard let bucket = _SlabBucket.index(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    return _SlabBucket.slabSize(bucket)
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let bucket = _SlabBucket.index(byteCount: byteCount, alignment: alignment) else {
      return _allocateLarge(byteCount: byteCount, alignment: alignment)
    }
    let slab = _buckets[bucket].partial
    if _fastPath(slab != 0) {
      let block = _Slab.pop(slab, bucket: bucket)
      if _slowPath(_Slab.isFull(slab, bucket: bucket)) {
        _Slab.unlink(slab, from: &_buckets[bucket].partial)
        _Slab.link(slab, to: &_buckets[bucket].full)
      }
      return UnsafeMutableRawPointer(bitPattern: block)
    }
    return _allocateInNewSlab(bucket)
  }

  @inlinable @inline(never)
  internal mutating func _allocateInNewSlab(_ bucket: Int) -> UnsafeMutableRawPointer? {
    var slab = _buckets[bucket].cached
    if slab != 0 {
      _buckets[bucket].cached = _Slab.next(slab)
      _buckets[bucket].cachedCount -= 1
      _counters.cachedSlabs -= 1
    } else {
      let size = _SlabBucket.slabSize(bucket)
      guard let memory = parent.allocateUncleared(byteCount: size, alignment: size) else {
        return nil
      }
      slab = UInt(bitPattern: memory)
      _counters.slabs += 1
      _counters.slabsRequested += 1
    }
    _Slab.initialize(slab, bucket: bucket)
    _Slab.link(slab, to: &_buckets[bucket].partial)
    return UnsafeMutableRawPointer(bitPattern: _Slab.pop(slab, bucket: bucket))
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    guard let bucket = _SlabBucket.index(byteCount: byteCount, alignment: alignment) else {
      return _deallocateLarge(pointer)
    }
    let block = UInt(bitPattern: pointer)
    let slab = block & ~UInt(_SlabBucket.slabSize(bucket) &- 1)
    if _slowPath(!_Slab.belongs(slab, bucket: bucket)) { _notASlab(pointer, byteCount, alignment) }
    let wasFull = _Slab.isFull(slab, bucket: bucket)
    _Slab.push(block, slab: slab)
    if _slowPath(wasFull) {
      _Slab.unlink(slab, from: &_buckets[bucket].full)
      _Slab.link(slab, to: &_buckets[bucket].partial)
    } else if _slowPath(_Slab.isEmpty(slab)) {
      _releaseEmptySlab(slab, bucket: bucket)
    }
  }

  @inlinable @inline(never)
  internal mutating func _releaseEmptySlab(_ slab: UInt, bucket: Int) {
    _Slab.unlink(slab, from: &_buckets[bucket].partial)
    if _buckets[bucket].cachedCount < cachedSlabsPerBucket {
      _Slab.setNext(slab, _buckets[bucket].cached)
      _buckets[bucket].cached = slab
      _buckets[bucket].cachedCount += 1
      _counters.cachedSlabs += 1
      return
    }
    let size = _SlabBucket.slabSize(bucket)
    parent.deallocate(
      UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped, byteCount: size, alignment: size)
    _counters.slabs -= 1
    _counters.slabsReturned += 1
  }

  @usableFromInline @inline(never)
  internal func _notASlab(_ pointer: UnsafeMutableRawPointer, _ byteCount: Int, _ alignment: Int)
    -> Never
  {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer) (\(byteCount) bytes, alignment \(alignment)), but the slab header found by masking its address is not one of Bonwick's for that size: a foreign pointer, or a wrong byteCount or alignment"
    )
  }

  /// Gives back every slab (live, partial or cached) and every large block, live or cached,
  /// then resets the parent.
  @inlinable
  public mutating func reset() {
    for bucket in 0..<_SlabBucket.count {
      let size = _SlabBucket.slabSize(bucket)
      _returnSlabs(_buckets[bucket].partial, slabSize: size)
      _returnSlabs(_buckets[bucket].full, slabSize: size)
      _returnSlabs(_buckets[bucket].cached, slabSize: size)
      _buckets[bucket] = _SlabBucket()
    }
    _counters.slabs = 0
    _counters.cachedSlabs = 0
    _resetLarge()
    parent.reset()
  }

  /// Gives every slab of a list, linked through the headers' `next`, back to the parent.
  @inlinable
  internal mutating func _returnSlabs(_ list: UInt, slabSize size: Int) {
    var slab = list
    while slab != 0 {
      let next = _Slab.next(slab)
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped, byteCount: size,
        alignment: size)
      slab = next
    }
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Bonwick: \(_counters.slabs) slabs held (\(_counters.cachedSlabs) cached empty), \(_counters.slabsRequested) requested and \(_counters.slabsReturned) returned so far; \(_bigBlocks.count) large blocks live, \(_bigCacheCount) cached, \(_counters.bigCacheHits) cache hits"
    )
    parent.appendReport(to: &lines)
  }
}
