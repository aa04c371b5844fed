/// Every block comes back filled with zeros (what `calloc` promises).
///
/// When the parent already returns zero-filled memory (it says so with
/// ``Layer/returnsZeroedMemory``, as ``Mmap`` does: fresh pages from the OS are zero), Zero
/// does nothing at all; otherwise it clears each block with `memset`.
///
/// ```swift
/// var stack = Zero { Chunk(65536) { Mmap() } }   // clears: Chunk reuses memory
/// var pages = Zero { Mmap() }                    // free: the OS already cleared the pages
/// ```
///
/// - Complexity: O(`byteCount`) per allocate when it clears, O(1) otherwise; deallocate is
///   the parent's.
/// - Memory: none of its own.
/// - Failure: a nil from the parent is passed up.
/// - Bad input: bad requests stop the program with a message (see ``AllocationRequest``).
/// - Threads: as safe as its parent.
public struct Zero<Parent: Layer>: WrappingLayer {
  /// The layer every request goes to.
  public var parent: Parent

  /// A layer that hands out `parent`'s blocks zero-filled.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  /// Whether Zero clears blocks itself: false when the parent returns zeroed memory.
  @inlinable
  public static var clearsBlocks: Bool { !Parent.returnsZeroedMemory }

  /// True: that is the point of the layer.
  public static var returnsZeroedMemory: Bool { true }

  /// Zero keeps no state, so it is as thread-safe as its parent.
  public static var isThreadSafe: Bool { Parent.isThreadSafe }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let pointer = parent.allocate(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    if Self.clearsBlocks {
      pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
    }
    return pointer
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      Self.clearsBlocks ? "Zero: clears each block" : "Zero: the parent returns zeroed memory")
    parent.appendReport(to: &lines)
  }
}
