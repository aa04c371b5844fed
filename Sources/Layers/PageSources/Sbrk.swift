/// A source layer that takes memory from the program break (`sbrk`): the area just above the
/// program's data, which the C library's malloc grows too.
///
/// ```swift
/// var heap = Bonwick { Sbrk() }
/// ```
///
/// Policy: blocks given back go on an address-ordered free list (kept in the free memory
/// itself) and are reused first fit, coalesced with free neighbours. A request the free list
/// cannot serve moves the break up by at least ``minimumGrowth`` bytes, extending the topmost
/// free range when it ends at the break. The break moves down only when a freed range is
/// topmost, ending exactly at the current break, and holds at least ``trimThreshold`` bytes;
/// it then keeps ``minimumGrowth`` bytes of the range, as glibc keeps a pad when it trims its
/// heap. `reset` moves it down to the range's start, whatever the size. Memory below someone
/// else's (malloc's) stays on the free list until it is reused, and `reset` tells the OS to
/// drop the contents of its whole pages.
///
/// - Sharing the break: the break is one value per process, and the C library's malloc moves
///   it too (glibc's main arena grows and trims with `sbrk`). Moves that take turns with this
///   layer's are handled: it asks for the current break before every move, goes through the
///   C library's own `sbrk`/`brk` so malloc's picture stays right, and never moves the break
///   below memory it does not own. Moves *at the same time* are not: `sbrk` reads and sets
///   the break without a lock, so two threads moving it at once can be handed the same
///   bytes. Use Sbrk only where no other thread can move the break concurrently (a single
///   thread, or every mover under one lock). ``isThreadSafe`` is false.
/// - Unavailable: on C libraries that refuse non-zero `sbrk` increments (musl) allocate
///   returns nil; macOS only emulates a small fixed break (use ``Mmap`` there). The break is
///   capped by `RLIMIT_DATA`. Under tools that replace malloc with their own break policy,
///   prefer ``Mmap``.
/// - Alignment: any power of two, met by padding the start; the padding stays free for
///   reuse. Sizes are rounded up to 16 bytes. If someone left the break unaligned, up to 15
///   bytes below the first block are skipped.
/// - Complexity: allocate and deallocate walk the free list: O(free ranges); a miss adds one
///   `sbrk` call, a trim one `brk` call. `reset` O(free ranges).
/// - Failure: returns nil when the break cannot move (ENOMEM, RLIMIT_DATA).
/// - Bad input: a request that fails ``AllocationRequest/validate(byteCount:alignment:)``
///   stops the program; deallocating bytes that are already free (a double free, a wrong
///   `byteCount`) stops it with a message. Memory is not zeroed.
public struct Sbrk: Layer {
  /// The least the break moves up when the free list cannot serve a request.
  public let minimumGrowth: Int
  /// The least a free range at the top must hold for a deallocation to move the break down.
  public let trimThreshold: Int
  @usableFromInline internal var _free = _FreeRanges()
  @usableFromInline internal var _heldBytes = 0
  @usableFromInline internal var _growths = 0
  @usableFromInline internal var _shrinks = 0

  /// Bytes of the break this layer owns: its live blocks and its free ranges.
  public var heldBytes: Int { _heldBytes }
  /// Bytes on the free list.
  public var freeBytes: Int { _free.bytes }
  /// Ranges on the free list.
  public var freeRanges: Int { _free.count }
  /// Times the layer moved the break up (survives `reset`).
  public var growths: Int { _growths }
  /// Times the layer moved the break down (survives `reset`).
  public var shrinks: Int { _shrinks }

  /// A layer over the program break.
  ///
  /// - Parameters:
  ///   - minimumGrowth: the least the break moves up at a time (0: exactly what a request
  ///     needs). Growing in steps saves system calls.
  ///   - trimThreshold: the least a topmost free range must hold before a deallocation
  ///     moves the break down (0: whenever the topmost block is freed); `minimumGrowth`
  ///     bytes of the range stay. Keep it above `minimumGrowth`.
  /// - Precondition: both are zero or more.
  public init(minimumGrowth: Int = 64 * 1024, trimThreshold: Int = 128 * 1024) {
    if !(minimumGrowth >= 0 && trimThreshold >= 0) {
      AllocationRequest.stop("Regions: Sbrk's minimumGrowth and trimThreshold must not be negative")
    }
    self.minimumGrowth = minimumGrowth
    self.trimThreshold = trimThreshold
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let size = AllocationRequest.roundUp(Swift.max(byteCount, 1), to: 16)
    let align = Swift.max(alignment, 16)
    if let start = _free.take(byteCount: size, alignment: align) {
      return UnsafeMutableRawPointer(bitPattern: start)
    }
    return _allocateByGrowing(byteCount: size, alignment: align)
  }

  @inlinable @inline(never)
  internal mutating func _allocateByGrowing(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    // Twice at most: a second round only if the break was not where we found it.
    for _ in 0..<2 {
      let top = _Break.current()
      guard top != 0 else { return nil }
      var from = (top &+ 15) & ~15
      if let last = _free.last, last.end == top { from = last.start }
      let mask = UInt(alignment) &- 1
      let (aligned, o1) = from.addingReportingOverflow(mask)
      let (end, o2) = (aligned & ~mask).addingReportingOverflow(UInt(byteCount))
      guard !o1 && !o2, let exact = Int(exactly: end &- top) else { return nil }
      let needed = Swift.max(exact, minimumGrowth)
      let grown = _Break.grow(by: needed)
      guard grown != 0 else { return nil }
      _growths += 1
      let usable = (grown &+ 15) & ~15
      let newEnd = grown &+ UInt(needed)
      if newEnd > usable {
        _heldBytes += Int(newEnd &- usable)
        _free.insert(start: usable, byteCount: Int(newEnd &- usable))
      }
      if let start = _free.take(byteCount: byteCount, alignment: alignment) {
        return UnsafeMutableRawPointer(bitPattern: start)
      }
    }
    return nil
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    let size = AllocationRequest.roundUp(Swift.max(byteCount, 1), to: 16)
    let merged = _free.insert(start: UInt(bitPattern: pointer), byteCount: size)
    if _slowPath(merged.end &- merged.start >= UInt(trimThreshold))
      && merged.end == _Break.current()
    {
      _shrink(merged.start, merged.end, keeping: minimumGrowth)
    }
  }

  /// Moves the break down into the free range `[start, end)` at the top, keeping its first
  /// `keep` bytes (rounded up to 16).
  @inlinable @inline(never)
  internal mutating func _shrink(_ start: UInt, _ end: UInt, keeping keep: Int) {
    let kept = UInt(keep &+ 15) & ~15
    guard end &- start > kept else { return }
    let newBreak = start &+ kept
    // Unlink first: the node lives in the bytes the break is about to drop.
    _free.remove(start: start)
    if _Break.set(newBreak) {
      _heldBytes -= Int(end &- newBreak)
      _shrinks += 1
      if kept > 0 { _free.insert(start: start, byteCount: Int(kept)) }
    } else {
      _free.insert(start: start, byteCount: Int(end &- start))
    }
  }

  /// Moves the break down if the topmost free range ends at it (whatever its size), and
  /// tells the OS it may drop the whole pages inside the other free ranges. Live blocks stay
  /// the caller's: a source layer cannot take them back.
  @inlinable
  public mutating func reset() {
    if let last = _free.last, last.end == _Break.current() {
      _shrink(last.start, last.end, keeping: 0)
    }
    let page = UInt(_Pages.size)
    _free.forEach { start, end in
      let from = (start &+ 16 &+ page &- 1) & ~(page &- 1)
      let to = end & ~(page &- 1)
      if to > from { _Pages.discard(from, byteCount: Int(to &- from)) }
    }
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Sbrk: \(_heldBytes) bytes of the break held, \(_free.bytes) free in \(_free.count) ranges; moved the break up \(_growths) times, down \(_shrinks)"
    )
  }
}
