/// A composable allocator: a value that hands out and takes back blocks of memory.
///
/// Most layers wrap a *parent* layer they get memory from (see ``WrappingLayer``); *source*
/// layers such as ``Mmap`` and ``ProcessAllocator`` have none. Layers compose statically: the
/// declared stack `Stats { Chunk(4096) { Mmap() } }` *is* the type
/// `Stats<Chunk<Mmap>>`, and a release build inlines the whole allocation path.
///
/// Deallocation is *sized*: the caller passes back the `byteCount` and `alignment` it asked
/// for. Every requirement beyond the three below has a default implementation.
///
/// A layer must never call `malloc`, create class instances, arrays, strings or escaping
/// closures on its allocate/deallocate path: in hook mode that would recurse. Metadata a
/// layer needs comes from its parent or from pages.
public protocol Layer {
  /// Returns a block of at least `byteCount` bytes aligned to `alignment`, or nil when the
  /// layer (or its parent) cannot serve the request.
  ///
  /// - Parameters:
  ///   - byteCount: zero or more bytes. Zero returns a distinct block that must still be
  ///     deallocated with `byteCount: 0`.
  ///   - alignment: a power of two.
  /// - Precondition: `byteCount >= 0`, `alignment` a power of two, and the padded size
  ///   representable as `Int`; built-in layers stop the program with a message otherwise.
  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer?

  /// Takes back a block this layer returned, with the same `byteCount` and `alignment`.
  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int)

  /// Gives back everything the layer holds to its parent. Counters survive.
  mutating func reset()

  /// Whether concurrent calls to one instance (through a pointer to it) are safe.
  ///
  /// A region calls a stack whose top layer says false under the region's lock, and one
  /// that says true (``Locked``, ``PerThread``) without it. Defaults to false; a wrapping
  /// layer that keeps no state of its own may forward its parent's answer.
  static var isThreadSafe: Bool { get }

  /// Appends one line per layer, outermost first, describing the layer's state.
  ///
  /// The default appends the layer's type name; wrapping layers then append their parent's
  /// lines. Not on the allocation path: it may allocate.
  func appendReport(to lines: inout [String])
  /// Appends one JSON object per layer, outermost first: `"layer"` (the type's name),
  /// `"report"` (its line of ``appendReport(to:)``) and the layer's numbers.
  ///
  /// The default builds the object from the layer's report line; wrapping layers then append
  /// their parent's objects. Not on the allocation path: it may allocate.
  func appendReportObjects(to objects: inout [String])

  /// Whether every block `allocate` returns is zero-filled (for instance fresh pages from
  /// the OS). ``Zero`` skips its clearing when its parent says so. Defaults to false; only
  /// say true if it holds for every block, including reused ones.
  static var returnsZeroedMemory: Bool { get }

  /// Returns a block as ``allocate(byteCount:alignment:)`` would, for a caller that does not
  /// need it zero-filled: a layer whose `allocate` clears memory only to keep its
  /// ``returnsZeroedMemory`` promise may skip the clearing here (``Mmap`` does, for the pages
  /// a region reuses); a layer that exists to clear (``Zero``) clears here too. What a layer
  /// carves into blocks of its own (a chunk, a slab) comes from its parent through this call,
  /// and so does every `malloc` a region serves. The block is deallocated as any other.
  /// Defaults to `allocate`.
  mutating func allocateUncleared(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer?

  /// Returns a block as ``allocate(byteCount:alignment:)`` would, if the layer can serve it
  /// with its own inline code from memory it already holds; nil if serving it needs anything
  /// more (a refill from the parent, a page source, a table that must grow, any function
  /// called out of line). A nil is not a failure: the caller then calls `allocate`.
  ///
  /// The runtime tries it first for every allocation in hook mode. Because nothing it does can
  /// allocate or map pages, the runtime calls it without the bookkeeping a call to `allocate`
  /// needs, and the function the runtime calls it from saves no registers: a bump or a
  /// free-list pop here is the whole fast path. A block it returns is the layer's like any
  /// other (counted, deallocated the same way), so a layer that does work per allocation
  /// (counting, checking) must do it here too, or not implement this. Defaults to nil, for
  /// every layer, wrapping layers included (forwarding to the parent would skip the layer's
  /// own `allocate`).
  mutating func allocateWithoutCalls(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer?

  /// Takes back a block as ``deallocate(_:byteCount:alignment:)`` would, if the layer can do
  /// it with its own inline code (no call to the parent or anything out of line), and returns
  /// true; false, having done nothing, otherwise (the caller then calls `deallocate`). The
  /// counterpart of ``allocateWithoutCalls(byteCount:alignment:)``. Defaults to false.
  mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool
}

extension Layer {
  public static var isThreadSafe: Bool { false }

  public func appendReport(to lines: inout [String]) {
    lines.append(_layerName(Self.self))
  }

  /// The state of every layer in the stack, one line per layer, outermost first.
  public var report: String {
    var lines: [String] = []
    appendReport(to: &lines)
    return lines.joined(separator: "\n")
  }

  public static var returnsZeroedMemory: Bool { false }

  /// The block `allocate` returns.
  @inlinable @inline(__always)
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  { allocate(byteCount: byteCount, alignment: alignment) }

  /// `allocate` when `cleared`, else `allocateUncleared`: how a layer that forwards its
  /// parent's ``returnsZeroedMemory`` promise serves each of the two.
  @inlinable @inline(__always)
  internal mutating func _allocateBlock(byteCount: Int, alignment: Int, cleared: Bool)
    -> UnsafeMutableRawPointer?
  {
    cleared
      ? allocate(byteCount: byteCount, alignment: alignment)
      : allocateUncleared(byteCount: byteCount, alignment: alignment)
  }

  /// No inline path: nil, so every request goes to `allocate`.
  @inlinable @inline(__always)
  public mutating func allocateWithoutCalls(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  { nil }

  /// No inline path: false, so every block goes back through `deallocate`.
  @inlinable @inline(__always)
  public mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool { false }
}

/// A layer type as messages name it: `Check<Mmap>`, or `Check` for a layer of a parsed stack
/// (whose parents are erased; the stack's text names them).
package func _layerTypeDescription(_ type: Any.Type) -> String {
  let name = String(describing: type)
  return name.contains("_ErasedLayer") ? _layerName(type) : name
}

/// The name of a layer type without its generic arguments: `Chunk` for `Chunk<Mmap>`.
package func _layerName(_ type: Any.Type) -> String {
  let full = _typeName(type, qualified: false)
  if let bracket = full.firstIndex(of: "<") { return String(full[..<bracket]) }
  return full
}
