public import Layers

/// A layer that counts in `allocate` and `deallocate` and leaves the inline path to the
/// protocol's defaults (nil and false), so every block must reach its `allocate`.
public struct CountingOnly<Parent: Layer>: WrappingLayer {
  public var parent: Parent
  public var allocations = 0
  public var deallocations = 0

  @inlinable public init(@LayerBuilder parent: () -> Parent) { self.parent = parent() }

  @inlinable public mutating func allocate(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    allocations += 1
    return parent.allocate(byteCount: byteCount, alignment: alignment)
  }

  @inlinable public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    deallocations += 1
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }
}
