/// A stack built at run time from text in the DSL's own words:
/// `try ParsedStack(parsing: "Stats { Chunk(65536) { Mmap() } }")`.
///
/// Every catalog layer can be named, with the labeled arguments of its initializer (integers
/// may be written `1 << 20`, `64 * 1024`, `1_000_000`; strings in double quotes; enum cases as
/// `.report`). This is how `REGIONS_STACK` names the whole-process region's stack, and how a
/// tool can take a stack on its command line. Third-party layers cannot be named.
///
/// - Cost: each layer of the parsed stack is one indirect call away from the next (a
///   declared stack is inlined whole): a few nanoseconds per allocation for a deep stack.
///   ``ParsedStack`` itself says it is not thread-safe (its type cannot know);
///   ``topIsThreadSafe`` tells whether its top layer is (``Locked``, ``PerThread``).
/// - Copies share their layers' state (the layers live behind the value, freed with the last
///   copy).
public struct ParsedStack: Layer {
  /// The text the stack was parsed from.
  public let text: String
  var top: _ErasedLayer
  private let owner: _BuiltLayers

  /// Parses `text` and builds its layers.
  ///
  /// - Throws: ``StackSyntaxError`` for text that is not a stack of catalog layers: where it
  ///   goes wrong and what was expected there. Values are checked by the layers' own
  ///   initializers (which stop the program with a message, as in Swift code).
  public init(parsing text: String) throws(StackSyntaxError) {
    var parser = _StackParser(text)
    let syntax = try parser.parseStack()
    owner = _BuiltLayers()
    top = syntax.build(owner)
    self.text = text
  }

  /// The names of the layers a stack's text can use.
  public static var layerNames: [String] { _StackCatalog.entries.map(\.name) }

  /// Whether the top layer is thread-safe, so that concurrent calls through a pointer to
  /// this stack are safe (``Layer/isThreadSafe`` of the top layer's type).
  public var topIsThreadSafe: Bool { top.layerIsThreadSafe }

  /// A block from the parsed stack's top layer.
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    top.allocate(byteCount: byteCount, alignment: alignment)
  }

  /// A block from the parsed stack's top layer's `allocateUncleared`.
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  { top.allocateUncleared(byteCount: byteCount, alignment: alignment) }

  /// Gives a block back to the parsed stack's top layer.
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    top.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// Resets every layer of the parsed stack.
  public mutating func reset() { top.reset() }

  /// The parsed layers' lines, outermost first.
  public func appendReport(to lines: inout [String]) { top.appendReport(to: &lines) }

  /// The parsed layers' JSON objects, outermost first.
  public func appendReportObjects(to objects: inout [String]) {
    top.appendReportObjects(to: &objects)
  }
}
