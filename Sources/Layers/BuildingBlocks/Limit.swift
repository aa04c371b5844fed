/// Refuses (returns nil for) any allocation that would take the live bytes beyond a budget.
///
/// ```swift
/// var stack = Limit(bytes: 64 << 20) { Chunk(65536) { Mmap() } }
/// ```
///
/// Live bytes are the requested bytes of blocks allocated through it and not yet
/// deallocated (what the parent adds for headers or rounding is not counted). A refused
/// request never reaches the parent; the layer remembers how many it refused and the last
/// one, and ``appendReport(to:)`` tells the budget, the live and peak bytes and the refusals.
/// Under ``Fallback``, a refusal sends the request to the other stack.
///
/// - Complexity: a compare and an addition per operation.
/// - Memory: none per block.
/// - Failure: returns nil when the budget would be exceeded, or when the parent does.
/// - Bad input: a negative budget stops the program at `init`; bad requests stop it with a
///   message (see ``AllocationRequest``).
/// - Reset: resets the parent; blocks allocated before are gone, so live bytes go to zero.
/// - Threads: not thread-safe (wrap it in ``Locked``).
public struct Limit<Parent: Layer>: WrappingLayer {
  /// The layer allocations within the budget go to.
  public var parent: Parent
  /// The most bytes that may be live at once.
  public let budget: Int
  @usableFromInline internal var _liveBytes = 0
  @usableFromInline internal var _peakLiveBytes = 0
  @usableFromInline internal var _refusals = 0
  @usableFromInline internal var _lastRefusedByteCount = 0
  @usableFromInline internal var _liveBytesAtLastRefusal = 0

  /// Requested bytes of the blocks live now.
  public var liveBytes: Int { _liveBytes }
  /// The highest `liveBytes` has been (survives `reset`).
  public var peakLiveBytes: Int { _peakLiveBytes }
  /// Bytes still available under the budget.
  public var remainingBytes: Int { budget - _liveBytes }
  /// Requests refused for the budget so far (survives `reset`).
  public var refusals: Int { _refusals }
  /// The size of the last refused request, or 0 if none was refused.
  public var lastRefusedByteCount: Int { _lastRefusedByteCount }

  /// A layer that lets at most `budget` bytes be live in `parent` at once.
  ///
  /// - Precondition: `budget >= 0`.
  @inlinable
  public init(bytes budget: Int, @LayerBuilder parent: () -> Parent) {
    if !(budget >= 0) {
      AllocationRequest.stop("Regions: Limit's budget must not be negative (got \(budget))")
    }
    self.budget = budget
    self.parent = parent()
  }

  /// Whether the parent's blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool { Parent.returnsZeroedMemory }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    _allocate(byteCount: byteCount, alignment: alignment, cleared: true)
  }

  /// As `allocate`, from the parent's `allocateUncleared`.
  @inlinable
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  { _allocate(byteCount: byteCount, alignment: alignment, cleared: false) }

  @inlinable @inline(__always)
  internal mutating func _allocate(byteCount: Int, alignment: Int, cleared: Bool)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    if _slowPath(byteCount > budget &- _liveBytes) {
      _refuse(byteCount)
      return nil
    }
    guard
      let pointer = parent._allocateBlock(
        byteCount: byteCount, alignment: alignment, cleared: cleared)
    else { return nil }
    _liveBytes &+= byteCount
    if _liveBytes > _peakLiveBytes { _peakLiveBytes = _liveBytes }
    return pointer
  }

  @inlinable @inline(never)
  internal mutating func _refuse(_ byteCount: Int) {
    _refusals += 1
    _lastRefusedByteCount = byteCount
    _liveBytesAtLastRefusal = _liveBytes
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _liveBytes &-= byteCount
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// Resets the parent; the budget is whole again.
  @inlinable
  public mutating func reset() {
    _liveBytes = 0
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    var line = "Limit(\(budget) bytes): \(_liveBytes) bytes live, peak \(_peakLiveBytes)"
    if _refusals == 0 {
      line += ", nothing refused"
    } else {
      line +=
        ", \(_refusals) requests refused; the last asked for \(_lastRefusedByteCount) bytes with \(_liveBytesAtLastRefusal) live"
    }
    lines.append(line)
    parent.appendReport(to: &lines)
  }

  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(
      to: &objects,
      [
        "budget": budget, "liveBytes": liveBytes, "peakLiveBytes": peakLiveBytes,
        "refusals": refusals,
      ])
  }
}
