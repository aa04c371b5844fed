/// A buddy allocator with the semantics of Haskell's `memorypool`: requests are rounded up to
/// a power-of-two multiple of a base size and carved out of blocks of `baseSize · 2^exponent`
/// bytes from the parent; freed buddies merge, and a block that becomes wholly free goes back
/// to the parent at once.
///
/// ```swift
/// var pool = Buddy(baseSize: 4096, blockExponent: 8) { Mmap() }   // 1 MiB blocks
/// print(pool.fillMap)   // one line per block: "0 #+##    " …
/// ```
///
/// - Blocks: each block has a tree of one byte per node (2^(exponent+1) bytes, after the
///   block's data, in the same parent allocation) recording the largest wholly free run
///   below each node. A request takes the leftmost run that fits in the block tried first
///   (the block that served the last request), then in the other blocks by index, then in a
///   new block at the lowest free index; the block directory (8 bytes per block) also comes
///   from the parent. Blocks are aligned to the largest power of two dividing the block
///   size (over a parent like ``Mmap`` an alignment above the page size costs over-mapping
///   and trimming once per block), so with a power-of-two `baseSize` every run is aligned
///   to its own size and Buddy can serve slabs to ``Bonwick``.
/// - Alignment: a run of `2^k` base units starts at a multiple of `2^k · baseSize`, so an
///   alignment `a` is met by taking a run of at least `a / lowbit(baseSize)` units.
/// - Large requests: a request larger than a block, or aligned beyond the blocks' alignment,
///   goes to the parent as it is (booked in a table whose storage comes from the parent, so
///   `reset` gives it back); memorypool would refuse it.
/// - Memory overhead: up to half of each run to power-of-two rounding (plus the rounding to
///   `baseSize`), 2 bytes per base unit of tree, 8 bytes per block of directory.
/// - Complexity: allocate O(blocks + exponent); deallocate O(blocks + exponent) (finding the
///   block is a scan, the hinted block first); a new or wholly free block costs one parent call.
/// - Failure: returns nil when the parent refuses a block, the directory or a large request.
/// - Bad input: `baseSize < 1` or `blockExponent` outside 0…20 stop the program at `init`;
///   deallocating an address no block holds, one not at the start of a run of the size its
///   `byteCount` names, or one that is already free stops it with a message. `byteCount` 0
///   takes one base unit (memorypool refuses it).
public struct Buddy<Parent: Layer>: WrappingLayer {
  /// The layer this one gets its memory from.
  public var parent: Parent
  /// Every run is a power-of-two multiple of this many bytes.
  public let baseSize: Int
  /// Each block holds `2^blockExponent` base units.
  public let blockExponent: Int
  /// Bytes of data in each block: `baseSize << blockExponent`.
  public let blockSize: Int
  @usableFromInline internal let _blockAlignment: Int
  @usableFromInline internal let _baseAlignmentShift: Int
  @usableFromInline internal var _blocks = _BuddyBlocks()
  /// Large requests passed to the parent: address → byteCount, alignment.
  @usableFromInline internal var _large = _LargeBlocks()

  /// Blocks held from the parent.
  public var blockCount: Int { _blocks.count }
  /// Blocks requested from the parent so far (survives `reset`).
  public var blocksRequested: Int { _blocks.requested }
  /// Wholly free blocks given back to the parent so far (survives `reset`).
  public var blocksReturned: Int { _blocks.returned }
  /// Large requests passed to the parent and not yet deallocated.
  public var largeBlockCount: Int { _large.count }

  /// A buddy allocator over `parent` whose blocks hold `2^blockExponent` units of
  /// `baseSize` bytes.
  ///
  /// - Precondition: `baseSize >= 1`, `0 <= blockExponent <= 20`, and the block size
  ///   representable; stops the program otherwise.
  @inlinable
  public init(baseSize: Int, blockExponent: Int, @LayerBuilder parent: () -> Parent) {
    if !(baseSize >= 1) {
      AllocationRequest.stop("Regions: Buddy's baseSize must be at least 1 (got \(baseSize))")
    }
    if !((0...20).contains(blockExponent)) {
      AllocationRequest.stop(
        "Regions: Buddy's blockExponent must be 0 through 20 (got \(blockExponent))")
    }
    let (blockSize, overflow) = baseSize.multipliedReportingOverflow(by: 1 << blockExponent)
    if !(!overflow && blockSize <= Int.max / 2) {
      AllocationRequest.stop("Regions: Buddy's block size is too large")
    }
    self.baseSize = baseSize
    self.blockExponent = blockExponent
    self.blockSize = blockSize
    self._blockAlignment = 1 << blockSize.trailingZeroBitCount
    self._baseAlignmentShift = baseSize.trailingZeroBitCount
    self.parent = parent()
  }

  /// The order (log2 of base units) of the run serving a request, or nil when it is large.
  @inlinable @inline(__always)
  internal func _order(byteCount: Int, alignment: Int) -> Int? {
    if _slowPath(byteCount > blockSize || alignment > _blockAlignment) { return nil }
    let units = byteCount <= baseSize ? 1 : (byteCount &- 1) / baseSize &+ 1
    var order = units == 1 ? 0 : Int.bitWidth &- (units &- 1).leadingZeroBitCount
    let alignmentOrder = alignment.trailingZeroBitCount &- _baseAlignmentShift
    if alignmentOrder > order { order = alignmentOrder }
    return order <= blockExponent ? order : nil
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let order = _order(byteCount: byteCount, alignment: alignment) else {
      return _large.allocate(byteCount: byteCount, alignment: alignment, from: &parent)
    }
    return _allocateRun(order: order)
  }

  @inlinable @inline(never)
  internal mutating func _allocateRun(order: Int) -> UnsafeMutableRawPointer? {
    let geometry = _geometry
    if let address = _blocks.take(order: order, geometry) {
      return UnsafeMutableRawPointer(bitPattern: address)
    }
    guard
      let block = parent.allocateUncleared(
        byteCount: geometry.parentByteCount, alignment: _blockAlignment)
    else { return nil }
    guard _blocks.add(UInt(bitPattern: block), geometry, parent: &parent) else {
      parent.deallocate(block, byteCount: geometry.parentByteCount, alignment: _blockAlignment)
      return nil
    }
    return UnsafeMutableRawPointer(
      bitPattern: _blocks.take(order: order, geometry).unsafelyUnwrapped)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    guard let order = _order(byteCount: byteCount, alignment: alignment) else {
      return _large.deallocate(
        pointer, byteCount: byteCount, alignment: alignment, to: &parent, layer: { Self.self })
    }
    _deallocateRun(UInt(bitPattern: pointer), order: order)
  }

  @inlinable @inline(never)
  internal mutating func _deallocateRun(_ address: UInt, order: Int) {
    let geometry = _geometry
    guard let slot = _blocks.slot(holding: address, geometry) else {
      _badDeallocation(address, order: order, reason: "no block of this Buddy holds it")
    }
    let base = _blocks.base(slot)
    let leaf = Int(address &- base) / baseSize
    guard Int(address &- base) % baseSize == 0 && leaf & ((1 << order) &- 1) == 0 else {
      _badDeallocation(address, order: order, reason: "it is not the start of a run of that size")
    }
    let tree = _BuddyTree(base &+ UInt(blockSize), exponent: blockExponent)
    guard tree.free(leaf: leaf, order: order) else {
      _badDeallocation(address, order: order, reason: "that run is not in use (a double free?)")
    }
    if tree.isWhollyFree {
      _blocks.remove(slot: slot)
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: base).unsafelyUnwrapped,
        byteCount: geometry.parentByteCount, alignment: _blockAlignment)
    }
  }

  @usableFromInline @inline(never)
  internal func _badDeallocation(_ address: UInt, order: Int, reason: String) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate 0x\(String(address, radix: 16)) as a run of \(baseSize << order) bytes, but \(reason)"
    )
  }

  @inlinable
  internal var _geometry: _BuddyBlocks.Geometry {
    _BuddyBlocks.Geometry(
      blockSize: blockSize, exponent: blockExponent,
      parentByteCount: blockSize + _BuddyTree.byteCount(exponent: blockExponent),
      baseSize: baseSize)
  }

  /// Gives every block, the directory and every large block back to the parent, then resets
  /// the parent.
  @inlinable
  public mutating func reset() {
    let geometry = _geometry
    var blocks = _blocks
    blocks.forEachBlock { _, base in
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: base).unsafelyUnwrapped,
        byteCount: geometry.parentByteCount, alignment: _blockAlignment)
    }
    blocks.release(parent: &parent)
    _blocks = blocks
    _large.deallocateAll(to: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Buddy(baseSize: \(baseSize), blockExponent: \(blockExponent)): \(_blocks.count) blocks held, \(_blocks.requested) requested and \(_blocks.returned) returned so far, \(_large.count) large blocks live"
    )
    parent.appendReport(to: &lines)
  }
}
