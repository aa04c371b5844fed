// Bonwick's large blocks: requests above the largest bucket, and the big cache of freed ones
// (Myrddin's `bigcache`). Large blocks are whole parent blocks, never split or merged, so each
// goes back to the parent with exactly the size and alignment it was asked for.

extension Bonwick {
  /// Serves a large request from the big cache (first fit by size, at most twice the size
  /// asked) or from the parent, and books it.
  @inlinable @inline(never)
  internal mutating func _allocateLarge(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    let size = AllocationRequest.roundUp(Swift.max(byteCount, 1), to: 4096)
    let align = Swift.max(alignment, 4096)
    guard _bigBlocks.reserveOne(parent: &parent) else { return nil }
    var index = 0
    while index < _bigCacheCount {
      let entry = _bigCache[index]
      if entry.byteCount >= size && entry.byteCount / 2 <= size
        && entry.address & UInt(align &- 1) == 0
      {
        _removeFromBigCache(at: index)
        _counters.bigCacheHits += 1
        let block = UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped
        _bigBlocks.insert(block, byteCount: entry.byteCount, alignment: entry.alignment)
        return block
      }
      index += 1
    }
    guard let block = parent.allocateUncleared(byteCount: size, alignment: align) else {
      return nil
    }
    _bigBlocks.insert(block, byteCount: size, alignment: align)
    return block
  }

  /// Puts a freed large block into the big cache; when the cache is full, the smallest of the
  /// cached blocks and this one goes back to the parent.
  @inlinable @inline(never)
  internal mutating func _deallocateLarge(_ pointer: UnsafeMutableRawPointer) {
    guard var evicted = _bigBlocks.remove(pointer) else { _notALargeBlock(pointer) }
    if _bigCacheCount < bigCacheCapacity {
      _bigCache[_bigCacheCount] = evicted
      _bigCacheCount += 1
      return
    }
    var smallest = -1
    for index in 0..<_bigCacheCount where _bigCache[index].byteCount < evicted.byteCount {
      if smallest < 0 || _bigCache[index].byteCount < _bigCache[smallest].byteCount {
        smallest = index
      }
    }
    if smallest >= 0 {
      let kept = evicted
      evicted = _bigCache[smallest]
      _removeFromBigCache(at: smallest)
      _bigCache[_bigCacheCount] = kept
      _bigCacheCount += 1
    }
    parent.deallocate(
      UnsafeMutableRawPointer(bitPattern: evicted.address).unsafelyUnwrapped,
      byteCount: evicted.byteCount, alignment: evicted.alignment)
  }

  /// Removes a big-cache entry, keeping the others in order (oldest first).
  @inlinable
  internal mutating func _removeFromBigCache(at index: Int) {
    var position = index
    while position + 1 < _bigCacheCount {
      _bigCache[position] = _bigCache[position + 1]
      position += 1
    }
    _bigCacheCount -= 1
  }

  @usableFromInline @inline(never)
  internal func _notALargeBlock(_ pointer: UnsafeMutableRawPointer) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer) as a large block (over \(_SlabBucket.largestSize) bytes), but it is not a live large block of this layer: a double free, a wrong byteCount, or a foreign pointer"
    )
  }

  /// Gives every live and cached large block back to the parent, and the book's storage.
  @inlinable
  internal mutating func _resetLarge() {
    _bigBlocks.deallocateAll(to: &parent)
    for index in 0..<_bigCacheCount {
      let entry = _bigCache[index]
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped,
        byteCount: entry.byteCount, alignment: entry.alignment)
    }
    _bigCacheCount = 0
  }
}
