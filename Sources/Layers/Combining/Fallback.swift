/// Tries one stack, and when it returns nil, the other (Heap Layers' TryHeap).
///
/// ```swift
/// var stack = Fallback {
///   Limit(bytes: 1 << 20) { Chunk(4096) { Mmap() } }   // fast, bounded
/// } otherwise: {
///   ProcessAllocator()                                          // when the first one refuses
/// }
/// ```
///
/// Deallocation must reach the stack that served the block. Fallback books the blocks the
/// *secondary* stack serves (those are the rare ones) in a hash table whose storage comes
/// from the secondary stack itself, never from malloc; a block not in the table belongs to
/// the primary stack. No header is added to any block, so both stacks see the caller's
/// exact requests.
///
/// - Complexity: primary allocations: the primary's cost. Secondary allocations: the
///   primary's failed attempt, the secondary's cost and a table insertion. Deallocation: one
///   compare while the secondary holds no blocks, else a table lookup (O(1) expected).
/// - Memory: 16 bytes per live secondary block (load ≤ ½), from the secondary: at the first
///   fallback the secondary is asked for 4 KiB of table (count it in a secondary's budget).
/// - Failure: nil when both stacks refuse (or the secondary refuses room for its table).
/// - Bad input: checked by the stacks.
/// - Threads: not thread-safe (wrap it in ``Locked``).
public struct Fallback<Primary: Layer, Secondary: Layer>: Layer {
  /// The stack tried first.
  public var primary: Primary
  /// The stack tried when the primary returns nil.
  public var secondary: Secondary
  @usableFromInline internal var _secondaryBlocks = _BlockTable()
  @usableFromInline internal var _fallbacks = 0

  /// Allocations the secondary stack served so far (survives `reset`).
  public var fallbacks: Int { _fallbacks }
  /// Blocks the secondary stack holds now.
  public var secondaryLiveBlocks: Int { _secondaryBlocks.count }

  /// A layer that asks `primary`, and `secondary` when the primary returns nil.
  @inlinable
  public init(
    @LayerBuilder _ primary: () -> Primary, @LayerBuilder otherwise secondary: () -> Secondary
  ) {
    self.primary = primary()
    self.secondary = secondary()
  }

  /// Whether both stacks' blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool {
    Primary.returnsZeroedMemory && Secondary.returnsZeroedMemory
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    if let pointer = primary.allocate(byteCount: byteCount, alignment: alignment) {
      return pointer
    }
    return _allocateFromSecondary(byteCount: byteCount, alignment: alignment)
  }

  @inlinable @inline(never)
  internal mutating func _allocateFromSecondary(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    guard
      let pointer = _secondaryBlocks.allocateBooked(
        byteCount: byteCount, alignment: alignment, cleared: Self.returnsZeroedMemory,
        from: &secondary)
    else { return nil }
    _fallbacks += 1
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if _slowPath(_secondaryBlocks.count > 0) && _secondaryBlocks.remove(pointer) != nil {
      secondary.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    } else {
      primary.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    }
  }

  /// Forgets the secondary's blocks (giving the table back to it), then resets both stacks.
  @inlinable
  public mutating func reset() {
    _secondaryBlocks.release(parent: &secondary)
    primary.reset()
    secondary.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Fallback: \(_fallbacks) allocations served by the secondary so far, \(_secondaryBlocks.count) live there"
    )
    var primaryLines: [String] = []
    primary.appendReport(to: &primaryLines)
    var secondaryLines: [String] = []
    secondary.appendReport(to: &secondaryLines)
    lines.append("  primary:")
    lines.append(contentsOf: primaryLines.map { "    " + $0 })
    lines.append("  otherwise:")
    lines.append(contentsOf: secondaryLines.map { "    " + $0 })
  }

  public func appendReportObjects(to objects: inout [String]) {
    objects.append(
      _reportObject(
        Self.self, report: _ownReportLine,
        ["fallbacks": fallbacks, "secondaryLiveBlocks": secondaryLiveBlocks],
        stacks: ["primary": primary.reportJSON, "otherwise": secondary.reportJSON]))
  }
}
