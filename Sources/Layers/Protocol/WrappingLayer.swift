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

// Note: the defaults copy `parent` out and write it back instead of mutating it in place.
// In place, unspecialized (debug) code reaches it through the generic `modify` coroutine,
// whose frame the Swift runtime may malloc: an allocation on the allocation path. A release
// build specializes and inlines either form to the same in-place code.
extension WrappingLayer {
  @inlinable @inline(__always)
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    var parent = self.parent
    defer { self.parent = parent }
    return parent.allocate(byteCount: byteCount, alignment: alignment)
  }

  @inlinable @inline(__always)
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    var parent = self.parent
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    self.parent = parent
  }

  @inlinable
  public mutating func reset() {
    var parent = self.parent
    parent.reset()
    self.parent = parent
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(_layerName(Self.self))
    parent.appendReport(to: &lines)
  }
}
