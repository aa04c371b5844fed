/// An address-ordered free list with coalescing, first fit: the classic general-purpose
/// design whose free memory merges back into large ranges, so a program whose live data
/// shrinks does not stay fragmented.
///
/// ```swift
/// var heap = FreeList(slabSize: 1 << 20) { Mmap() }
/// ```
///
/// - Slabs: memory comes from the parent in slabs of `slabSize` bytes; each starts with a
///   32-byte header that keeps free ranges of neighbouring slabs from merging. Free ranges
///   (16-byte multiples, in the free memory itself) are kept in address order; a freed block
///   merges with the free ranges just below and above it. A slab that becomes wholly free
///   goes back to the parent, unless it is the only one.
/// - Large requests: requests over `slabSize / 4` bytes, or aligned beyond 4 KiB, go to the
///   parent as they are, booked in a table whose storage comes from the parent (so `reset`
///   gives them back).
/// - Alignment: up to 4 KiB inside slabs, met by padding; the padding stays free.
/// - Memory overhead: sizes rounded up to 16 bytes; 32 bytes per slab; free memory that
///   no request fits.
/// - Complexity: allocate and deallocate walk the free list: O(free ranges); a new slab or
///   a wholly free one costs a parent call (and a walk over the slabs to confirm it). Large
///   requests: a table operation plus a parent call. `reset` O(slabs + large blocks).
/// - Failure: returns nil when the parent refuses a slab, a large block or table storage.
/// - Bad input: `slabSize` below 16 KiB stops the program at `init`; requests failing
///   ``AllocationRequest/validate(byteCount:alignment:)`` stop it; deallocating bytes that
///   are already free (a double free, a wrong `byteCount`), or a large block FreeList did not
///   hand out, stops it with a message. A foreign pointer inside no slab is not detected.
public struct FreeList<Parent: Layer>: WrappingLayer {
  /// The layer this one gets its memory from.
  public var parent: Parent
  /// Bytes in each slab requested from the parent.
  public let slabSize: Int
  @usableFromInline internal var _free = _FreeRanges()
  /// The newest slab; slabs are doubly linked through their headers.
  @usableFromInline internal var _slabs: UInt = 0
  @usableFromInline internal var _slabCount = 0
  @usableFromInline internal var _slabsRequested = 0
  @usableFromInline internal var _slabsReturned = 0
  @usableFromInline internal var _large = _LargeBlocks()

  /// Slabs held from the parent.
  public var slabCount: Int { _slabCount }
  /// Slabs requested from the parent so far (survives `reset`).
  public var slabsRequested: Int { _slabsRequested }
  /// Wholly free slabs given back to the parent so far (survives `reset`).
  public var slabsReturned: Int { _slabsReturned }
  /// Ranges on the free list.
  public var freeRangeCount: Int { _free.count }
  /// Bytes on the free list.
  public var freeBytes: Int { _free.bytes }
  /// Large requests passed to the parent and not yet deallocated.
  public var largeBlockCount: Int { _large.count }

  /// A free-list allocator over `parent`, asking it for `slabSize`-byte slabs.
  ///
  /// - Precondition: `slabSize >= 16384`.
  @inlinable
  public init(slabSize: Int = 1 << 20, @LayerBuilder parent: () -> Parent) {
    if !(slabSize >= 16384) {
      AllocationRequest.stop(
        "Regions: FreeList's slabSize must be at least 16 KiB (got \(slabSize))")
    }
    self.slabSize = slabSize & ~15
    self.parent = parent()
  }

  @usableFromInline static var _headerSize: Int { 32 }
  @usableFromInline static var _magic: UInt { 0xF4EE_7157_5BA4_0001 }

  @inlinable @inline(__always)
  internal func _isLarge(byteCount: Int, alignment: Int) -> Bool {
    byteCount > slabSize / 4 || alignment > 4096
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    if _slowPath(_isLarge(byteCount: byteCount, alignment: alignment)) {
      return _large.allocate(byteCount: byteCount, alignment: alignment, from: &parent)
    }
    let size = (Swift.max(byteCount, 1) &+ 15) & ~15
    let align = Swift.max(alignment, 16)
    if let start = _free.take(byteCount: size, alignment: align) {
      return UnsafeMutableRawPointer(bitPattern: start)
    }
    return _allocateInNewSlab(byteCount: size, alignment: align)
  }

  @inlinable @inline(never)
  internal mutating func _allocateInNewSlab(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    guard let memory = parent.allocateUncleared(byteCount: slabSize, alignment: 16) else {
      return nil
    }
    let slab = UInt(bitPattern: memory)
    memory.storeBytes(of: _slabs, as: UInt.self)
    memory.storeBytes(of: 0, toByteOffset: 8, as: UInt.self)
    memory.storeBytes(of: Self._magic, toByteOffset: 16, as: UInt.self)
    if _slabs != 0 { _setPrevious(_slabs, slab) }
    _slabs = slab
    _slabCount += 1
    _slabsRequested += 1
    let usable = slab &+ UInt(Self._headerSize)
    _free.insert(start: usable, byteCount: slabSize &- Self._headerSize)
    return UnsafeMutableRawPointer(
      bitPattern: _free.take(byteCount: byteCount, alignment: alignment).unsafelyUnwrapped)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if _slowPath(_isLarge(byteCount: byteCount, alignment: alignment)) {
      return _large.deallocate(
        pointer, byteCount: byteCount, alignment: alignment, to: &parent, layer: { Self.self })
    }
    let size = (Swift.max(byteCount, 1) &+ 15) & ~15
    let merged = _free.insert(start: UInt(bitPattern: pointer), byteCount: size)
    if _slowPath(Int(merged.end &- merged.start) == slabSize &- Self._headerSize) {
      _releaseSlabIfWhollyFree(merged.start)
    }
  }

  /// Gives the slab whose usable bytes start at `usable` back to the parent if it is one of
  /// ours (confirmed by walking the slabs) and not the only one.
  @inlinable @inline(never)
  internal mutating func _releaseSlabIfWhollyFree(_ usable: UInt) {
    let slab = usable &- UInt(Self._headerSize)
    guard _slabCount > 1,
      UnsafeRawPointer(bitPattern: slab).unsafelyUnwrapped.load(fromByteOffset: 16, as: UInt.self)
        == Self._magic
    else { return }
    var candidate = _slabs
    while candidate != 0 && candidate != slab { candidate = _next(candidate) }
    guard candidate == slab else { return }
    _free.remove(start: usable)
    let next = _next(slab)
    let previous = _previous(slab)
    if next != 0 { _setPrevious(next, previous) }
    if previous != 0 {
      UnsafeMutableRawPointer(bitPattern: previous).unsafelyUnwrapped.storeBytes(
        of: next, as: UInt.self)
    } else {
      _slabs = next
    }
    parent.deallocate(
      UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped, byteCount: slabSize,
      alignment: 16)
    _slabCount -= 1
    _slabsReturned += 1
  }

  @inlinable @inline(__always)
  internal func _next(_ slab: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: slab).unsafelyUnwrapped.load(as: UInt.self)
  }

  @inlinable @inline(__always)
  internal func _previous(_ slab: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: slab).unsafelyUnwrapped.load(fromByteOffset: 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  internal func _setPrevious(_ slab: UInt, _ previous: UInt) {
    UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped.storeBytes(
      of: previous, toByteOffset: 8, as: UInt.self)
  }

  /// Gives every slab and every large block back to the parent, then resets the parent.
  @inlinable
  public mutating func reset() {
    var slab = _slabs
    while slab != 0 {
      let next = _next(slab)
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: slab).unsafelyUnwrapped, byteCount: slabSize,
        alignment: 16)
      slab = next
    }
    _slabs = 0
    _slabCount = 0
    _free = _FreeRanges()
    _large.deallocateAll(to: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "FreeList(slabSize: \(slabSize)): \(_slabCount) slabs held, \(_free.bytes) bytes free in \(_free.count) ranges, \(_large.count) large blocks live; \(_slabsRequested) slabs requested and \(_slabsReturned) returned so far"
    )
    parent.appendReport(to: &lines)
  }
}
