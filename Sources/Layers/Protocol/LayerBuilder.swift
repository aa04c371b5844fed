/// Builds a layer's parent from a trailing closure: `Chunk(4096) { Mmap() }`.
///
/// A block holds exactly one layer, and the builder returns it unchanged, so the declared
/// stack is its own static type: `Stats { Chunk(4096) { Mmap() } }` is a
/// `Stats<Chunk<Mmap>>`. Nothing is erased, and a release build specializes the whole path.
@resultBuilder
public enum LayerBuilder {
  /// Each statement of a block must be a layer. Giving it that context also resolves names
  /// other modules share: with Foundation imported, `OuterRegionPages()` in a block is this package's
  /// ``OuterRegionPages`` layer, not Foundation's `OuterRegionPages`.
  @inlinable
  public static func buildExpression<L: Layer>(_ layer: L) -> L { layer }

  /// The one layer of the block.
  @inlinable
  public static func buildBlock<L: Layer>(_ layer: L) -> L { layer }

  /// A block with no layer does not compile.
  ///
  /// It returns a concrete layer (not `Never`) so that the compiler reaches this message
  /// instead of complaining that `Never` is not a `Layer`.
  @available(*, unavailable, message: "a layer needs a parent: put exactly one layer in this block")
  public static func buildBlock() -> Mmap { fatalError() }

  /// A block with two or more layers does not compile.
  @available(
    *, unavailable,
    message:
      "a layer has exactly one parent: put one layer in this block and nest the others inside it"
  )
  public static func buildBlock<First: Layer, Second: Layer, each Rest: Layer>(
    _ first: First, _ second: Second, _ rest: repeat each Rest
  ) -> First { fatalError() }
}
