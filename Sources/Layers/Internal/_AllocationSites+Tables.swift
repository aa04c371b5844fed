// The tables of `_AllocationSites`: site records, their hash index and the live blocks, all in
// memory from the parent, grown by doubling.

extension _AllocationSites {
  /// Room for one more block and one more site; false when the parent cannot supply it.
  @inlinable @inline(__always)
  mutating func _reserveRoom<Parent: Layer>(parent: inout Parent) -> Bool {
    if _fastPath(
      (_blockCount &+ 1) &* 2 <= _blockCapacity && _siteCount &+ 1 < _recordCapacity
        && (_siteCount &+ 1) &* 2 <= _indexCapacity)
    {
      return true
    }
    return _grow(parent: &parent)
  }

  @inlinable @inline(never)
  mutating func _grow<Parent: Layer>(parent: inout Parent) -> Bool {
    if (_blockCount &+ 1) &* 2 > _blockCapacity {
      let capacity = Swift.max(256, _blockCapacity * 2)
      guard
        let raw = parent.allocate(byteCount: capacity * MemoryLayout<Block>.stride, alignment: 16)
      else { return false }
      raw.initializeMemory(
        as: UInt8.self, repeating: 0, count: capacity * MemoryLayout<Block>.stride)
      let old = (_blocks, _blockCapacity)
      _blocks = raw.assumingMemoryBound(to: Block.self)
      _blockCapacity = capacity
      _blockCount = 0
      if let blocks = old.0 {
        for slot in 0..<old.1 where blocks[slot].address != 0 { _insertBlock(blocks[slot]) }
        parent.deallocate(
          UnsafeMutableRawPointer(blocks), byteCount: old.1 * MemoryLayout<Block>.stride,
          alignment: 16)
      }
    }
    if _siteCount &+ 1 >= _recordCapacity {
      let capacity = Swift.max(64, _recordCapacity * 2)
      let bytes = capacity * _recordWords * MemoryLayout<UInt>.stride
      guard let raw = parent.allocate(byteCount: bytes, alignment: 16) else { return false }
      let records = raw.assumingMemoryBound(to: UInt.self)
      records.initialize(repeating: 0, count: capacity * _recordWords)
      if let old = _records {
        records.update(from: old, count: (_siteCount + 1) * _recordWords)
        parent.deallocate(
          UnsafeMutableRawPointer(old),
          byteCount: _recordCapacity * _recordWords * MemoryLayout<UInt>.stride, alignment: 16)
      }
      _records = records
      _recordCapacity = capacity
    }
    if (_siteCount &+ 1) &* 2 > _indexCapacity {
      let capacity = Swift.max(128, _indexCapacity * 2)
      let bytes = capacity * MemoryLayout<Int32>.stride
      guard let raw = parent.allocate(byteCount: bytes, alignment: 16) else { return false }
      let index = raw.assumingMemoryBound(to: Int32.self)
      index.initialize(repeating: 0, count: capacity)
      if let old = _index {
        parent.deallocate(
          UnsafeMutableRawPointer(old), byteCount: _indexCapacity * 4, alignment: 16)
      }
      _index = index
      _indexCapacity = capacity
      for number in stride(from: 1, through: _siteCount, by: 1) {
        var slot = Int(truncatingIfNeeded: _record(number)[Self._hash] >> 7) & (capacity - 1)
        while index[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
        index[slot] = Int32(number)
      }
    }
    return true
  }

  @inlinable @inline(__always)
  func _home(_ address: UInt) -> Int {
    Int(truncatingIfNeeded: ((address >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 20)
      & (_blockCapacity &- 1)
  }

  @inlinable @inline(__always)
  mutating func _insertBlock(_ block: Block) {
    let blocks = _blocks.unsafelyUnwrapped
    var slot = _home(block.address)
    while blocks[slot].address != 0 { slot = (slot &+ 1) & (_blockCapacity &- 1) }
    blocks[slot] = block
    _blockCount &+= 1
  }

  /// Removes the block at `address` (backward-shift deletion); nil if it is not recorded.
  @inlinable
  mutating func _removeBlock(_ address: UInt) -> Block? {
    guard let blocks = _blocks else { return nil }
    let mask = _blockCapacity &- 1
    var hole = _home(address)
    while blocks[hole].address != address {
      if blocks[hole].address == 0 { return nil }
      hole = (hole &+ 1) & mask
    }
    let removed = blocks[hole]
    var next = (hole &+ 1) & mask
    while blocks[next].address != 0 {
      let home = _home(blocks[next].address)
      if (hole &- home) & mask < (next &- home) & mask {
        blocks[hole] = blocks[next]
        hole = next
      }
      next = (next &+ 1) & mask
    }
    blocks[hole] = Block(address: 0, byteCount: 0, site: 0, time: 0)
    _blockCount &-= 1
    return removed
  }

  /// The live block at `address`, if recorded.
  @inlinable
  func block(at address: UInt) -> Block? {
    guard let blocks = _blocks else { return nil }
    var slot = _home(address)
    while blocks[slot].address != 0 {
      if blocks[slot].address == address { return blocks[slot] }
      slot = (slot &+ 1) & (_blockCapacity &- 1)
    }
    return nil
  }

  /// Gives every table back to `parent` and forgets everything.
  @inlinable
  mutating func release<Parent: Layer>(parent: inout Parent) {
    if let blocks = _blocks {
      parent.deallocate(
        UnsafeMutableRawPointer(blocks), byteCount: _blockCapacity * MemoryLayout<Block>.stride,
        alignment: 16)
    }
    if let records = _records {
      parent.deallocate(
        UnsafeMutableRawPointer(records),
        byteCount: _recordCapacity * _recordWords * MemoryLayout<UInt>.stride, alignment: 16)
    }
    if let index = _index {
      parent.deallocate(
        UnsafeMutableRawPointer(index), byteCount: _indexCapacity * 4, alignment: 16)
    }
    self = _AllocationSites(frames: frameCapacity, skipping: skippedFrames, timed: isTimed)
  }
}
