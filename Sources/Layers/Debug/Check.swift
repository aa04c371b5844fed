/// Checks every deallocation against the set of live blocks, and reports leaks at `reset`.
///
/// Deallocating a pointer Check did not hand out (a foreign pointer or a double free), or
/// with a `byteCount` or `alignment` other than the allocation's, stops the program with a
/// message naming the pointer, both sizes and the layer stack. A `reset` with live blocks
/// reports them (count, bytes, the first few addresses and sizes) and, by default, stops
/// the program; `Check(onLeak: .report)` writes the report to standard error and goes on.
///
/// - Table: a hash table of live blocks (16 bytes per entry, load ≤ ½) in memory from the
///   parent, never from malloc.
/// - Complexity: O(1) expected allocate and deallocate; `reset` O(table capacity).
/// - Failure: returns nil when the parent refuses the block or room for the table.
public struct Check<Parent: Layer>: WrappingLayer {
  /// What `reset` does when blocks are still live.
  public enum LeakPolicy: Sendable {
    /// Write the report to standard error and stop the program.
    case stop
    /// Write the report to standard error and go on; the blocks are forgotten.
    case report
  }

  public var parent: Parent
  /// What `reset` does when blocks are still live.
  public let leakPolicy: LeakPolicy
  @usableFromInline internal var _live = _BlockTable()
  @usableFromInline internal var _liveBytes = 0
  @usableFromInline internal var _leakedBlocks = 0
  @usableFromInline internal var _leakedBytes = 0

  /// Blocks handed out and not yet deallocated.
  public var liveBlocks: Int { _live.count }
  /// Bytes handed out and not yet deallocated.
  public var liveBytes: Int { _liveBytes }
  /// Blocks found live at resets so far (survives `reset`).
  public var leakedBlocks: Int { _leakedBlocks }
  /// Bytes found live at resets so far (survives `reset`).
  public var leakedBytes: Int { _leakedBytes }

  /// A layer that checks every deallocation passed to `parent`.
  ///
  /// - Parameter onLeak: what `reset` does when blocks are still live; stops by default.
  @inlinable
  public init(onLeak: LeakPolicy = .stop, @LayerBuilder parent: () -> Parent) {
    self.leakPolicy = onLeak
    self.parent = parent()
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard
      let pointer = _live.allocateBooked(
        byteCount: byteCount, alignment: alignment, from: &parent)
    else { return nil }
    _liveBytes &+= byteCount
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    guard let entry = _live.remove(pointer) else { _unknownPointer(pointer, byteCount, alignment) }
    if _slowPath(entry.byteCount != byteCount || entry.alignment != alignment) {
      _mismatch(pointer, entry, byteCount, alignment)
    }
    _liveBytes &-= byteCount
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  @usableFromInline @inline(never)
  internal func _unknownPointer(
    _ pointer: UnsafeMutableRawPointer, _ byteCount: Int, _ alignment: Int
  ) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer) (\(byteCount) bytes, alignment \(alignment)), which is not live: a double free, or a pointer this stack did not allocate"
    )
  }

  @inlinable @inline(never)
  internal func _mismatch(
    _ pointer: UnsafeMutableRawPointer, _ entry: _BlockTable.Entry, _ byteCount: Int,
    _ alignment: Int
  ) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer) with \(byteCount) bytes, alignment \(alignment), but it was allocated with \(entry.byteCount) bytes, alignment \(entry.alignment)"
    )
  }

  /// Reports live blocks (stopping the program under `.stop`), gives the table back, then
  /// resets the parent.
  @inlinable
  public mutating func reset() {
    if _live.count > 0 { _reportLeaks() }
    _live.release(parent: &parent)
    _liveBytes = 0
    parent.reset()
  }

  /// Writes the leak report (stopping the program under `.stop`) and counts the leaks. Out of
  /// line: it builds strings, which is allowed only when there is something to report.
  @inlinable @inline(never)
  internal mutating func _reportLeaks() {
    let report = leakReport()
    _leakedBlocks += _live.count
    _leakedBytes += _liveBytes
    if leakPolicy == .stop { fatalError(report) }
    _writeToStandardError(report + "\n")
  }

  /// A description of the live blocks: their count and bytes, what they hold when that can
  /// be told (in hook mode, the Swift class of objects: `3 × MyApp.Node`), and the first few.
  public func leakReport(listing limit: Int = 8) -> String {
    var listed: [String] = []
    var kinds: [String: (count: Int, bytes: Int)] = [:]
    _live.forEach { entry in
      let block = UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped
      let kind = _blockDescriber?(block, entry.byteCount) ?? "block"
      kinds[kind, default: (0, 0)].count += 1
      kinds[kind, default: (0, 0)].bytes += entry.byteCount
      if listed.count < limit {
        let address = "0x" + String(entry.address, radix: 16)
        listed.append(
          "    \(address): \(entry.byteCount) bytes, alignment \(entry.alignment), \(kind)")
      }
    }
    let summary = kinds.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
      .map { "  \($0.value.count) × \($0.key) (\($0.value.bytes) bytes)" }
    let more = _live.count > limit ? "\n    … and \(_live.count - limit) more" : ""
    return "Regions: \(Self.self) has \(_live.count) live blocks (\(_liveBytes) bytes) at reset:\n"
      + summary.joined(separator: "\n") + "\n  first blocks:\n" + listed.joined(separator: "\n")
      + more
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Check: \(_live.count) live blocks (\(_liveBytes) bytes), \(_leakedBlocks) leaked so far")
    parent.appendReport(to: &lines)
  }
}
