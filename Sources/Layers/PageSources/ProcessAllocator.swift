/// A source layer that takes blocks from the process allocator: the *ground* (glibc's
/// malloc, or a preloaded jemalloc / mimalloc), never the Regions hook.
///
/// - Alignment: any power of two; alignments above 16 use `posix_memalign`.
/// - Complexity: one call into the process allocator per operation.
/// - Failure: returns nil when the process allocator does.
/// - Bad input: a negative `byteCount` or an alignment that is not a power of two stops the
///   program with a message. `byteCount` 0 asks for one byte, so every block is distinct.
public struct ProcessAllocator: Layer {
  /// A layer over the process allocator.
  public init() {}

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _ProcessAllocator.allocate(byteCount: Swift.max(byteCount, 1), alignment: alignment)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _ProcessAllocator.deallocate(pointer)
  }

  /// ProcessAllocator holds nothing of its own.
  @inlinable
  public mutating func reset() {}

  public func appendReport(to lines: inout [String]) {
    lines.append("ProcessAllocator")
  }
}
