/// A layer over a parent layer. Conformers implement only what they change: every `Layer`
/// requirement they leave out forwards to `parent`, like a Heap Layers mixin.
///
/// ```swift
/// struct Counting<Parent: Layer>: WrappingLayer {
///   var parent: Parent
///   var count = 0
///   mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
///     count += 1
///     return parent.allocate(byteCount: byteCount, alignment: alignment)
///   }
/// }
/// ```
public protocol WrappingLayer: Layer {
  /// The layer this one gets its memory from.
  associatedtype Parent: Layer
  /// The layer this one gets its memory from.
  var parent: Parent { get set }
}

extension WrappingLayer {
  @inlinable @inline(__always)
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    parent.allocate(byteCount: byteCount, alignment: alignment)
  }

  @inlinable @inline(__always)
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  @inlinable
  public mutating func reset() {
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(_layerName(Self.self))
    parent.appendReport(to: &lines)
  }
}
