/// Makes its parent safe to call from several threads at once: every request runs under a
/// lock.
///
/// ```swift
/// let stack = UnsafeMutablePointer<Locked<Stats<Chunk<Mmap>>>>.allocate(capacity: 1)
/// stack.initialize(to: Locked { Stats { Chunk(65536) { Mmap() } } })
/// // any thread:
/// let p = stack.pointee.allocate(byteCount: 64, alignment: 8)
/// ```
///
/// The lock is a one-word futex lock stored in the layer itself, so it works only while
/// every thread calls *one shared instance through a pointer to it* (as a region does). A
/// copy of a `Locked` is a different allocator with a different lock: copying one while
/// other threads use it is a data race, and blocks from one copy must not be given to
/// another. Reading the parent's state (say, Stats counts) is safe once the other threads
/// are done.
///
/// - Complexity: the parent's, plus one compare-and-swap and one atomic exchange per
///   operation when uncontended (about 10 ns on x86-64, see Docs/Layers.md); a waiter spins
///   briefly, then sleeps in the kernel (futex).
/// - Memory: 4 bytes (padded to the parent's alignment); no per-block overhead.
/// - Failure: a nil from the parent is passed up.
/// - Bad input: checked by the parent, under the lock.
/// - Reset: takes the lock too, but should not race with allocations: blocks other threads
///   are using would be taken back.
public struct Locked<Parent: Layer>: WrappingLayer {
  /// The layer every request goes to, under the lock.
  public var parent: Parent
  @usableFromInline internal var _lock = _Lock()

  /// A lock around `parent`.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  /// True: concurrent calls through a pointer to one instance are serialized by the lock.
  public static var isThreadSafe: Bool { true }

  /// Whether the parent's blocks come back zero-filled.
  public static var returnsZeroedMemory: Bool { Parent.returnsZeroedMemory }

  // Note: the lock must be taken at the address of `self._lock` in the shared instance, so
  // each method passes that address (`withUnsafeMutablePointer` on a stored property of
  // `self` gives the field's own address, not a temporary). The C lock functions are
  // acquire/release atomics, which keep the parent's loads and stores inside the lock.

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    withUnsafeMutablePointer(to: &_lock) { _Lock.acquire($0) }
    defer { withUnsafeMutablePointer(to: &_lock) { _Lock.release($0) } }
    return parent.allocate(byteCount: byteCount, alignment: alignment)
  }

  /// As `allocate`, from the parent's `allocateUncleared`.
  @inlinable
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    withUnsafeMutablePointer(to: &_lock) { _Lock.acquire($0) }
    defer { withUnsafeMutablePointer(to: &_lock) { _Lock.release($0) } }
    return parent.allocateUncleared(byteCount: byteCount, alignment: alignment)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    withUnsafeMutablePointer(to: &_lock) { _Lock.acquire($0) }
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
    withUnsafeMutablePointer(to: &_lock) { _Lock.release($0) }
  }

  /// Resets the parent under the lock.
  @inlinable
  public mutating func reset() {
    withUnsafeMutablePointer(to: &_lock) { _Lock.acquire($0) }
    parent.reset()
    withUnsafeMutablePointer(to: &_lock) { _Lock.release($0) }
  }

  public func appendReport(to lines: inout [String]) {
    lines.append("Locked")
    parent.appendReport(to: &lines)
  }
}
