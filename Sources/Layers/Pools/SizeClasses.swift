/// Segregated fits with exact size classes, like Heap Layers' StrictSegHeap (the Kingsley
/// allocator's design): every request is served from its size class's free list, and a freed
/// block goes back on its class's list, to be reused only by that class.
///
/// ```swift
/// var heap = SizeClasses { Mmap() }
/// ```
///
/// - Classes: 40 classes up to 32 KiB: every multiple of 16 up to 128 B, then four per
///   doubling (160, 192, 224, 256, 320, …, 28 KiB, 32 KiB). A request of `n` bytes aligned to
///   `a` takes the smallest class ≥ n whose lowest set bit is ≥ a (so 4 KiB-aligned requests
///   land in a multiple of 4 KiB). Blocks never split or merge, and never change class.
/// - Refill: when a class's list is empty, a run of blocks (about 4 KiB
///   worth, at least one) is cut from the current slab, at the class's alignment (the lowest
///   set bit of its size, at most 4 KiB); the first is returned, the rest go on the list.
///   Slabs of `slabSize` bytes come from the parent, 4 KiB aligned, and are given back only
///   by `reset`: like Kingsley's, a class's free memory serves only that class.
/// - Large requests: over 32 KiB, or aligned beyond 4 KiB, go to the parent as they are,
///   booked in a table whose storage comes from the parent (so `reset` gives them back).
/// - Memory overhead: rounding up to the class: under 20 % of the block above 128 B, under 16 bytes below, 16 bytes
///   per slab, the unused tail of each slab, and every free block of every class.
/// - Complexity: O(1) allocate and deallocate for class sizes (a list pop or push); a refill
///   O(blocks in the run) plus, for a new slab, a parent call. Alignments above 16 add a
///   short class search. `reset` O(slabs + large blocks).
/// - Failure: returns nil when the parent refuses a slab, a large block or table storage.
/// - Bad input: `slabSize` below 64 KiB stops the program at `init`; requests failing
///   ``AllocationRequest/validate(byteCount:alignment:)`` stop it; a large block SizeClasses
///   did not hand out stops it with a message. Small blocks carry no header: deallocating
///   with a wrong size or twice corrupts the lists; put ``Check`` above to catch that.
public struct SizeClasses<Parent: Layer>: WrappingLayer {
  /// The layer this one gets its memory from.
  public var parent: Parent
  /// Bytes in each slab requested from the parent.
  public let slabSize: Int
  @usableFromInline internal var _lists = InlineArray<40, UInt>(repeating: 0)
  @usableFromInline internal var _cursor: UInt = 0
  @usableFromInline internal var _limit: UInt = 0
  /// The newest slab; each slab's last 16 bytes link to the one before.
  @usableFromInline internal var _slabs: UInt = 0
  @usableFromInline internal var _slabCount = 0
  @usableFromInline internal var _slabsRequested = 0
  @usableFromInline internal var _large = _LargeBlocks()

  /// Slabs held from the parent.
  public var slabCount: Int { _slabCount }
  /// Slabs requested from the parent so far (survives `reset`).
  public var slabsRequested: Int { _slabsRequested }
  /// Large requests passed to the parent and not yet deallocated.
  public var largeBlockCount: Int { _large.count }

  /// A segregated-fits allocator over `parent`, asking it for `slabSize`-byte slabs.
  ///
  /// - Precondition: `slabSize >= 65536`.
  @inlinable
  public init(slabSize: Int = 1 << 18, @LayerBuilder parent: () -> Parent) {
    if !(slabSize >= 65536) {
      AllocationRequest.stop(
        "Regions: SizeClasses' slabSize must be at least 64 KiB (got \(slabSize))")
    }
    self.slabSize = slabSize & ~15
    self.parent = parent()
  }

  /// The size of the class serving a request, or nil when it goes to the parent.
  @inlinable
  public static func classSize(forByteCount byteCount: Int, alignment: Int) -> Int? {
    _SizeClass.index(byteCount: byteCount, alignment: alignment).map(_SizeClass.size)
  }

  /// Free blocks on the list of the class serving a request (0 for large requests).
  ///
  /// - Complexity: O(blocks on that list).
  public func freeBlockCount(forByteCount byteCount: Int, alignment: Int) -> Int {
    guard let index = _SizeClass.index(byteCount: byteCount, alignment: alignment) else {
      return 0
    }
    var count = 0
    var block = _lists[index]
    while block != 0 {
      count += 1
      block = UnsafeRawPointer(bitPattern: block).unsafelyUnwrapped.load(as: UInt.self)
    }
    return count
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let index = _SizeClass.index(byteCount: byteCount, alignment: alignment) else {
      return _large.allocate(byteCount: byteCount, alignment: alignment, from: &parent)
    }
    let block = _lists[index]
    if _fastPath(block != 0) {
      _lists[index] = UnsafeRawPointer(bitPattern: block).unsafelyUnwrapped.load(as: UInt.self)
      return UnsafeMutableRawPointer(bitPattern: block)
    }
    return _refill(index)
  }

  /// A pop from the class's list; nil for a large request or an empty list.
  @inlinable @inline(__always)
  public mutating func allocateWithoutCalls(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let index = _SizeClass.index(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    let block = _lists[index]
    guard _fastPath(block != 0) else { return nil }
    _lists[index] = UnsafeRawPointer(bitPattern: block).unsafelyUnwrapped.load(as: UInt.self)
    return UnsafeMutableRawPointer(bitPattern: block).unsafelyUnwrapped
  }

  /// A push on the class's list; false for a large block.
  @inlinable @inline(__always)
  public mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool {
    guard let index = _SizeClass.index(byteCount: byteCount, alignment: alignment) else {
      return false
    }
    pointer.storeBytes(of: _lists[index], as: UInt.self)
    _lists[index] = UInt(bitPattern: pointer)
    return true
  }

  /// Carves a run of blocks of class `index`, returns the first and lists the rest.
  @inlinable @inline(never)
  internal mutating func _refill(_ index: Int) -> UnsafeMutableRawPointer? {
    let size = UInt(_SizeClass.size(index))
    let mask = UInt(_SizeClass.alignment(index)) &- 1
    let wanted = Swift.max(1, 4096 / size)
    var start = (_cursor &+ mask) & ~mask
    var count = start <= _limit ? Swift.min(wanted, (_limit &- start) / size) : 0
    if count == 0 {
      guard let slab = parent.allocateUncleared(byteCount: slabSize, alignment: 4096) else {
        return nil
      }
      let trailer = slab + slabSize - 16
      trailer.storeBytes(of: _slabs, as: UInt.self)
      _slabs = UInt(bitPattern: slab)
      _slabCount += 1
      _slabsRequested += 1
      _cursor = UInt(bitPattern: slab)
      _limit = UInt(bitPattern: trailer)
      start = _cursor
      count = Swift.min(wanted, (_limit &- start) / size)
    }
    _cursor = start &+ count &* size
    var block = _cursor &- size
    while block > start {
      UnsafeMutableRawPointer(bitPattern: block).unsafelyUnwrapped.storeBytes(
        of: _lists[index], as: UInt.self)
      _lists[index] = block
      block &-= size
    }
    return UnsafeMutableRawPointer(bitPattern: start)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    guard let index = _SizeClass.index(byteCount: byteCount, alignment: alignment) else {
      return _large.deallocate(
        pointer, byteCount: byteCount, alignment: alignment, to: &parent, layer: { Self.self })
    }
    pointer.storeBytes(of: _lists[index], as: UInt.self)
    _lists[index] = UInt(bitPattern: pointer)
  }

  /// Gives every slab and every large block back to the parent, then resets the parent.
  @inlinable
  public mutating func reset() {
    var slab = _slabs
    while slab != 0 {
      let next = UnsafeRawPointer(bitPattern: slab &+ UInt(slabSize) &- 16).unsafelyUnwrapped
        .load(as: UInt.self)
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped, byteCount: slabSize,
        alignment: 4096)
      slab = next
    }
    _slabs = 0
    _slabCount = 0
    _cursor = 0
    _limit = 0
    _lists = InlineArray(repeating: 0)
    _large.deallocateAll(to: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "SizeClasses(slabSize: \(slabSize)): \(_slabCount) slabs held, \(_slabsRequested) requested so far, \(_large.count) large blocks live"
    )
    parent.appendReport(to: &lines)
  }
}

/// ``SizeClasses``' classes: multiples of 16 up to 128, then four per doubling up to 32 KiB.
@usableFromInline
internal enum _SizeClass {
  @inlinable static var count: Int { 40 }
  @inlinable static var largest: Int { 32768 }

  /// The class of a request, or nil when it is large.
  @inlinable @inline(__always)
  static func index(byteCount: Int, alignment: Int) -> Int? {
    let size = Swift.max(byteCount, 1)
    if _slowPath(size > largest || alignment > 4096) { return nil }
    var index: Int
    if size <= 128 {
      index = (size &+ 15) &>> 4 &- 1
    } else {
      let exponent = Int.bitWidth &- 1 &- (size &- 1).leadingZeroBitCount
      index = 8 &+ (exponent &- 7) &* 4 &+ ((size &- 1 &- (1 &<< exponent)) &>> (exponent &- 2))
    }
    if _slowPath(alignment > 16) {
      while index < count && (1 &<< self.size(index).trailingZeroBitCount) < alignment {
        index &+= 1
      }
      if index == count { return nil }
    }
    return index
  }

  /// The block size of class `index`.
  @inlinable @inline(__always)
  static func size(_ index: Int) -> Int {
    if index < 8 { return (index &+ 1) &<< 4 }
    let step = index &- 8
    let exponent = 7 &+ step &>> 2
    return (1 &<< exponent) &+ ((step & 3) &+ 1) &<< (exponent &- 2)
  }

  /// The alignment every block of class `index` has: its size's lowest set bit, at most 4 KiB.
  @inlinable @inline(__always)
  static func alignment(_ index: Int) -> Int {
    Swift.min(1 &<< size(index).trailingZeroBitCount, 4096)
  }
}
