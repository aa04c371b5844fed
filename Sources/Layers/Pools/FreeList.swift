/// An address-ordered free list with coalescing, first fit: the classic general-purpose
/// design whose free memory merges back into large ranges, so a program whose live data
/// shrinks does not stay fragmented.
///
/// ```swift
/// var heap = FreeList(spanSize: 1 << 20) { Mmap() }
/// ```
///
/// - Spans: memory comes from the parent in spans of `spanSize` bytes; each starts with a
///   32-byte header that keeps free ranges of neighbouring spans from merging. Free ranges
///   (16-byte multiples, in the free memory itself) are kept in address order; a freed block
///   merges with the free ranges just below and above it. A span that becomes wholly free
///   goes back to the parent, unless it is the only one.
/// - Large requests: requests over `spanSize / 4` bytes, or aligned beyond 4 KiB, go to the
///   parent as they are, booked in a table whose storage comes from the parent (so `reset`
///   gives them back).
/// - Alignment: up to 4 KiB inside spans, met by padding; the padding stays free.
/// - Memory overhead: sizes rounded up to 16 bytes; 32 bytes per span; free memory that
///   no request fits.
/// - Complexity: allocate and deallocate walk the free list: O(free ranges); a new span or
///   a wholly free one costs a parent call (and a walk over the spans to confirm it). Large
///   requests: a table operation plus a parent call. `reset` O(spans + large blocks).
/// - Failure: returns nil when the parent refuses a span, a large block or table storage.
/// - Bad input: `spanSize` below 16 KiB stops the program at `init`; requests failing
///   ``AllocationRequest/validate(byteCount:alignment:)`` stop it; deallocating bytes that
///   are already free (a double free, a wrong `byteCount`), or a large block FreeList did not
///   hand out, stops it with a message. A foreign pointer inside no span is not detected.
public struct FreeList<Parent: Layer>: WrappingLayer {
  /// The layer this one gets its memory from.
  public var parent: Parent
  /// Bytes in each span requested from the parent.
  public let spanSize: Int
  @usableFromInline internal var _free = _FreeRanges()
  /// The newest span; spans are doubly linked through their headers.
  @usableFromInline internal var _spans: UInt = 0
  @usableFromInline internal var _spanCount = 0
  @usableFromInline internal var _spansRequested = 0
  @usableFromInline internal var _spansReturned = 0
  @usableFromInline internal var _large = _BlockTable()

  /// Spans held from the parent.
  public var spanCount: Int { _spanCount }
  /// Spans requested from the parent so far (survives `reset`).
  public var spansRequested: Int { _spansRequested }
  /// Wholly free spans given back to the parent so far (survives `reset`).
  public var spansReturned: Int { _spansReturned }
  /// Ranges on the free list.
  public var freeRangeCount: Int { _free.count }
  /// Bytes on the free list.
  public var freeBytes: Int { _free.bytes }
  /// Large requests passed to the parent and not yet deallocated.
  public var largeBlockCount: Int { _large.count }

  /// A free-list allocator over `parent`, asking it for `spanSize`-byte spans.
  ///
  /// - Precondition: `spanSize >= 16384`.
  @inlinable
  public init(spanSize: Int = 1 << 20, @LayerBuilder parent: () -> Parent) {
    precondition(
      spanSize >= 16384, "Regions: FreeList's spanSize must be at least 16 KiB (got \(spanSize))")
    self.spanSize = spanSize & ~15
    self.parent = parent()
  }

  @usableFromInline static var _headerSize: Int { 32 }
  @usableFromInline static var _magic: UInt { 0xF4EE_7157_5BA4_0001 }

  @inlinable @inline(__always)
  internal func _isLarge(byteCount: Int, alignment: Int) -> Bool {
    byteCount > spanSize / 4 || alignment > 4096
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    if _slowPath(_isLarge(byteCount: byteCount, alignment: alignment)) {
      return _allocateLarge(byteCount: byteCount, alignment: alignment)
    }
    let size = (Swift.max(byteCount, 1) &+ 15) & ~15
    let align = Swift.max(alignment, 16)
    if let start = _free.take(byteCount: size, alignment: align) {
      return UnsafeMutableRawPointer(bitPattern: start)
    }
    return _allocateInNewSpan(byteCount: size, alignment: align)
  }

  @usableFromInline @inline(never)
  internal mutating func _allocateInNewSpan(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    guard let memory = parent.allocate(byteCount: spanSize, alignment: 16) else { return nil }
    let span = UInt(bitPattern: memory)
    memory.storeBytes(of: _spans, as: UInt.self)
    memory.storeBytes(of: 0, toByteOffset: 8, as: UInt.self)
    memory.storeBytes(of: Self._magic, toByteOffset: 16, as: UInt.self)
    if _spans != 0 { _setPrevious(_spans, span) }
    _spans = span
    _spanCount += 1
    _spansRequested += 1
    let usable = span &+ UInt(Self._headerSize)
    _free.insert(start: usable, byteCount: spanSize &- Self._headerSize)
    return UnsafeMutableRawPointer(
      bitPattern: _free.take(byteCount: byteCount, alignment: alignment).unsafelyUnwrapped)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if _slowPath(_isLarge(byteCount: byteCount, alignment: alignment)) {
      return _deallocateLarge(pointer, byteCount: byteCount, alignment: alignment)
    }
    let size = (Swift.max(byteCount, 1) &+ 15) & ~15
    let merged = _free.insert(start: UInt(bitPattern: pointer), byteCount: size)
    if _slowPath(Int(merged.end &- merged.start) == spanSize &- Self._headerSize) {
      _releaseSpanIfWhollyFree(merged.start)
    }
  }

  /// Gives the span whose usable bytes start at `usable` back to the parent if it is one of
  /// ours (confirmed by walking the spans) and not the only one.
  @usableFromInline @inline(never)
  internal mutating func _releaseSpanIfWhollyFree(_ usable: UInt) {
    let span = usable &- UInt(Self._headerSize)
    guard _spanCount > 1,
      UnsafeRawPointer(bitPattern: span).unsafelyUnwrapped.load(fromByteOffset: 16, as: UInt.self)
        == Self._magic
    else { return }
    var candidate = _spans
    while candidate != 0 && candidate != span { candidate = _next(candidate) }
    guard candidate == span else { return }
    _free.remove(start: usable)
    let next = _next(span)
    let previous = _previous(span)
    if next != 0 { _setPrevious(next, previous) }
    if previous != 0 {
      UnsafeMutableRawPointer(bitPattern: previous).unsafelyUnwrapped.storeBytes(
        of: next, as: UInt.self)
    } else {
      _spans = next
    }
    parent.deallocate(
      UnsafeMutableRawPointer(bitPattern: span).unsafelyUnwrapped, byteCount: spanSize,
      alignment: 16)
    _spanCount -= 1
    _spansReturned += 1
  }

  @inlinable @inline(__always)
  internal func _next(_ span: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: span).unsafelyUnwrapped.load(as: UInt.self)
  }

  @inlinable @inline(__always)
  internal func _previous(_ span: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: span).unsafelyUnwrapped.load(fromByteOffset: 8, as: UInt.self)
  }

  @inlinable @inline(__always)
  internal func _setPrevious(_ span: UInt, _ previous: UInt) {
    UnsafeMutableRawPointer(bitPattern: span).unsafelyUnwrapped.storeBytes(
      of: previous, toByteOffset: 8, as: UInt.self)
  }

  @usableFromInline @inline(never)
  internal mutating func _allocateLarge(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer?
  {
    return _large.allocateBooked(byteCount: byteCount, alignment: alignment, from: &parent)
  }

  @usableFromInline @inline(never)
  internal mutating func _deallocateLarge(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if !_large.deallocateBooked(pointer, byteCount: byteCount, alignment: alignment, to: &parent) {
      _BlockTable._notALargeBlock(pointer, byteCount: byteCount, layer: Self.self)
    }
  }

  /// Gives every span and every large block back to the parent, then resets the parent.
  public mutating func reset() {
    var span = _spans
    while span != 0 {
      let next = _next(span)
      parent.deallocate(
        UnsafeMutableRawPointer(bitPattern: span).unsafelyUnwrapped, byteCount: spanSize,
        alignment: 16)
      span = next
    }
    _spans = 0
    _spanCount = 0
    _free = _FreeRanges()
    _large.deallocateAll(to: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "FreeList(spanSize: \(spanSize)): \(_spanCount) spans held, \(_free.bytes) bytes free in \(_free.count) ranges, \(_large.count) large blocks live; \(_spansRequested) spans requested and \(_spansReturned) returned so far"
    )
    parent.appendReport(to: &lines)
  }
}
