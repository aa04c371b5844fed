/// A layer that forwards everything to its parent: the template for new layers.
///
/// Copy this file to start a layer of your own. A ``WrappingLayer`` writes only what it
/// changes; everything it leaves out (here: everything) forwards to `parent`, and a release
/// build inlines the forwarding away, so `Bypass` costs nothing.
///
/// - Complexity: that of the parent.
public struct Bypass<Parent: Layer>: WrappingLayer {
  /// The layer every request goes to.
  public var parent: Parent

  /// A layer that forwards every request to `parent`.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  /// Bypass keeps no state, so it is as thread-safe as its parent.
  public static var isThreadSafe: Bool { Parent.isThreadSafe }
}
