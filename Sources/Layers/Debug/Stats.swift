/// Counts what passes through it: allocations, deallocations, bytes, live and peak bytes.
///
/// ```swift
/// var stack = Stats { Chunk(4096) { Mmap() } }
/// let p = stack.allocate(byteCount: 100, alignment: 8)!
/// stack.deallocate(p, byteCount: 100, alignment: 8)
/// print(stack)   // a small table of the counters
/// ```
///
/// Counters are in requested bytes and survive `reset`; blocks still live at a reset stay
/// counted as live (they were never deallocated).
///
/// - Complexity: a few additions per operation.
/// - Failure: a nil from the parent is passed up and counted in `failedAllocations`.
public struct Stats<Parent: Layer>: WrappingLayer {
  public var parent: Parent
  @usableFromInline internal var _allocations = 0
  @usableFromInline internal var _deallocations = 0
  @usableFromInline internal var _failedAllocations = 0
  @usableFromInline internal var _bytesAllocated = 0
  @usableFromInline internal var _bytesDeallocated = 0
  @usableFromInline internal var _peakLiveBytes = 0

  /// Successful allocations so far.
  public var allocations: Int { _allocations }
  /// Deallocations so far.
  public var deallocations: Int { _deallocations }
  /// Allocations the parent refused (returned nil).
  public var failedAllocations: Int { _failedAllocations }
  /// Bytes requested by successful allocations so far.
  public var bytesAllocated: Int { _bytesAllocated }
  /// Bytes passed back by deallocations so far.
  public var bytesDeallocated: Int { _bytesDeallocated }
  /// Bytes allocated and not yet deallocated.
  public var liveBytes: Int { _bytesAllocated &- _bytesDeallocated }
  /// Blocks allocated and not yet deallocated.
  public var liveBlocks: Int { _allocations &- _deallocations }
  /// The highest `liveBytes` has been.
  public var peakLiveBytes: Int { _peakLiveBytes }

  /// A layer that counts every request it passes to `parent`.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard let pointer = parent.allocateUncleared(byteCount: byteCount, alignment: alignment) else {
      _failedAllocations &+= 1
      return nil
    }
    _allocations &+= 1
    _bytesAllocated &+= byteCount
    let live = _bytesAllocated &- _bytesDeallocated
    if live > _peakLiveBytes { _peakLiveBytes = live }
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _deallocations &+= 1
    _bytesDeallocated &+= byteCount
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// The parent's inline path, counted like `allocate`.
  @inlinable @inline(__always)
  public mutating func allocateWithoutCalls(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    guard let pointer = parent.allocateWithoutCalls(byteCount: byteCount, alignment: alignment)
    else { return nil }
    _allocations &+= 1
    _bytesAllocated &+= byteCount
    let live = _bytesAllocated &- _bytesDeallocated
    if live > _peakLiveBytes { _peakLiveBytes = live }
    return pointer
  }

  /// The parent's inline path, counted like `deallocate`.
  @inlinable @inline(__always)
  public mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool {
    guard parent.deallocateWithoutCalls(pointer, byteCount: byteCount, alignment: alignment)
    else { return false }
    _deallocations &+= 1
    _bytesDeallocated &+= byteCount
    return true
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Stats: \(allocations) allocations, \(deallocations) deallocations, \(liveBytes) bytes live in \(liveBlocks) blocks, peak \(peakLiveBytes) bytes"
    )
    parent.appendReport(to: &lines)
  }

  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(
      to: &objects,
      [
        "allocations": allocations, "deallocations": deallocations,
        "failedAllocations": failedAllocations, "bytesAllocated": bytesAllocated,
        "bytesDeallocated": bytesDeallocated, "liveBytes": liveBytes, "liveBlocks": liveBlocks,
        "peakLiveBytes": peakLiveBytes,
      ])
  }
}
