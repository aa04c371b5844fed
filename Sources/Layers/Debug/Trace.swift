/// Records every allocate, deallocate and reset that passes through it to a text file, for
/// replaying against other stacks (the `tracereplay` tool, ``TraceReplay``).
///
/// ```swift
/// var stack = Trace(to: "/tmp/app.trace") { Chunk(65536) { Mmap() } }
/// ```
///
/// The format, one operation per line, fields separated by one space (see Docs/Layers.md):
///
/// ```
/// # regions-trace 1
/// a <byteCount> <alignment> <address>     allocate; address 0 if the parent returned nil
/// d <address> <byteCount> <alignment>     deallocate
/// r                                       reset
/// ```
///
/// Sizes and alignments are decimal; addresses are lowercase hexadecimal with `0x` (or `0`).
/// Lines starting with `#` are comments. The file is created (or truncated) at `init`.
/// Lines go into a 64 KiB buffer in pages and reach the file with one write(2) when it is
/// full, at every `reset`, on ``flush()``, and when the last copy of the layer is gone; so
/// nothing on the allocation path allocates. Copies of a `Trace` share the file.
///
/// - Complexity: formatting one line (tens of nanoseconds) per operation, plus a write(2)
///   per 64 KiB of text (about 1,500 lines).
/// - Memory: the 64 KiB buffer; nothing per block.
/// - Failure: a nil from the parent is passed up (and recorded with address 0). A failed
///   write(2) drops that buffer's lines and is counted in the report.
/// - Bad input: a file that cannot be created stops the program at `init` with the path
///   and errno.
/// - Threads: not thread-safe (wrap it in ``Locked``).
public struct Trace<Parent: Layer>: WrappingLayer {
  /// The layer every request goes to.
  public var parent: Parent
  @usableFromInline internal let _file: _TraceFile

  /// The file the trace goes to.
  public var path: String { _file.path }

  /// A layer that records every request it passes to `parent` in the file at `path`.
  ///
  /// - Precondition: the file can be created; stops the program otherwise.
  public init(to path: String, @LayerBuilder parent: () -> Parent) {
    self._file = _TraceFile(path: path)
    self.parent = parent()
  }

  /// Whether the parent's blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool { Parent.returnsZeroedMemory }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let pointer = parent.allocate(byteCount: byteCount, alignment: alignment)
    _file.recordAllocate(byteCount: byteCount, alignment: alignment, result: pointer)
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _file.recordDeallocate(pointer, byteCount: byteCount, alignment: alignment)
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// Records the reset, writes out the buffered lines, then resets the parent.
  @inlinable
  public mutating func reset() {
    _file.recordReset()
    parent.reset()
  }

  /// Writes the buffered lines to the file now.
  public func flush() {
    _file.flush()
  }

  public func appendReport(to lines: inout [String]) {
    let errors = _file.writeErrors
    lines.append("Trace: to \(path)" + (errors > 0 ? ", \(errors) failed writes (lines lost)" : ""))
    parent.appendReport(to: &lines)
  }
}
