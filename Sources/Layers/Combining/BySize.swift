/// Sends small requests to one stack and larger ones to another (Heap Layers' HybridHeap).
///
/// ```swift
/// var stack = BySize(threshold: 4096) {
///   Chunk(65536) { Mmap() }   // up to 4 KiB
/// } above: {
///   Mmap()                    // above 4 KiB: whole pages
/// }
/// ```
///
/// Requests of up to `threshold` bytes go to the first stack, the rest to the second.
/// Deallocation is sized, so the size alone says where a block goes back: no header, no
/// table. The alignment plays no part.
///
/// - Complexity: one compare, plus the chosen stack's cost.
/// - Memory: none of its own.
/// - Failure: a nil from the chosen stack is passed up (the other is not tried; see
///   ``Fallback``).
/// - Bad input: a negative threshold stops the program at `init`; a deallocation with
///   another `byteCount` than the allocation's may reach the wrong stack.
/// - Threads: as safe as both stacks.
public struct BySize<Small: Layer, Large: Layer>: Layer {
  /// The largest request the small stack serves.
  public let threshold: Int
  /// The stack for requests of up to `threshold` bytes.
  public var small: Small
  /// The stack for requests above `threshold` bytes.
  public var large: Large

  /// A layer that sends requests of up to `threshold` bytes to `small`, the rest to `large`.
  ///
  /// - Precondition: `threshold >= 0`.
  @inlinable
  public init(
    threshold: Int, @LayerBuilder _ small: () -> Small, @LayerBuilder above large: () -> Large
  ) {
    if !(threshold >= 0) {
      AllocationRequest.stop("Regions: BySize's threshold must not be negative (got \(threshold))")
    }
    self.threshold = threshold
    self.small = small()
    self.large = large()
  }

  /// BySize keeps no mutable state: it is thread-safe when both stacks are.
  public static var isThreadSafe: Bool { Small.isThreadSafe && Large.isThreadSafe }

  /// Whether both stacks' blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool {
    Small.returnsZeroedMemory && Large.returnsZeroedMemory
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    byteCount <= threshold
      ? small.allocate(byteCount: byteCount, alignment: alignment)
      : large.allocate(byteCount: byteCount, alignment: alignment)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    if byteCount <= threshold {
      small.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    } else {
      large.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    }
  }

  /// Resets both stacks.
  @inlinable
  public mutating func reset() {
    small.reset()
    large.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append("BySize(threshold: \(threshold))")
    var smallLines: [String] = []
    small.appendReport(to: &smallLines)
    var largeLines: [String] = []
    large.appendReport(to: &largeLines)
    lines.append("  up to \(threshold) bytes:")
    lines.append(contentsOf: smallLines.map { "    " + $0 })
    lines.append("  above:")
    lines.append(contentsOf: largeLines.map { "    " + $0 })
  }

  public func appendReportObjects(to objects: inout [String]) {
    objects.append(
      _reportObject(
        Self.self, report: _ownReportLine, ["threshold": threshold],
        stacks: ["small": small.reportJSON, "above": large.reportJSON]))
  }
}
