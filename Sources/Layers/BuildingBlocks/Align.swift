/// Raises the alignment of every request to at least a minimum, for everything below it.
///
/// ```swift
/// var stack = Align(64) { Chunk(65536) { Mmap() } }   // every block on its own cache line
/// ```
///
/// Deallocations pass the same raised alignment down, so the parent sees matching pairs.
///
/// - Complexity: one compare per operation; no state of its own.
/// - Memory: none of its own; the parent may pad more to meet the larger alignment.
/// - Failure: a nil from the parent is passed up.
/// - Bad input: a minimum that is not a positive power of two stops the program at `init`;
///   bad requests stop it with a message (see ``AllocationRequest``).
/// - Threads: as safe as its parent.
public struct Align<Parent: Layer>: WrappingLayer {
  /// The layer every (re-aligned) request goes to.
  public var parent: Parent
  /// The smallest alignment the parent is asked for.
  public let minimumAlignment: Int

  /// A layer that asks `parent` for at least `minimumAlignment`.
  ///
  /// - Precondition: `minimumAlignment` is a positive power of two.
  @inlinable
  public init(_ minimumAlignment: Int, @LayerBuilder parent: () -> Parent) {
    if !(minimumAlignment > 0 && minimumAlignment & (minimumAlignment - 1) == 0) {
      AllocationRequest.stop(
        "Regions: Align needs a positive power of two (got \(minimumAlignment))")
    }
    self.minimumAlignment = minimumAlignment
    self.parent = parent()
  }

  /// Align keeps no mutable state, so it is as thread-safe as its parent.
  public static var isThreadSafe: Bool { Parent.isThreadSafe }

  /// Whether the parent's blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool { Parent.returnsZeroedMemory }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return parent.allocate(byteCount: byteCount, alignment: Swift.max(alignment, minimumAlignment))
  }

  /// As `allocate`, from the parent's `allocateUncleared`.
  @inlinable
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return parent.allocateUncleared(
      byteCount: byteCount, alignment: Swift.max(alignment, minimumAlignment))
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    parent.deallocate(
      pointer, byteCount: byteCount, alignment: Swift.max(alignment, minimumAlignment))
  }

  public func appendReport(to lines: inout [String]) {
    lines.append("Align(\(minimumAlignment))")
    parent.appendReport(to: &lines)
  }
}
