@_exported public import Layers

/// Scopes whose heap allocations all go to one layer stack.
///
/// ```swift
/// var stats = Stats { Chunk(64 * 1024) { Mmap() } }
/// let total = Region.enter(&stats) {
///   (0..<1000).map { String($0) }.joined().count   // every allocation goes to `stats`
/// }
/// print(stats.allocations)
/// ```
///
/// Every heap allocation made while the body runs — class instances, Array / Dictionary /
/// String storage, closure contexts, `UnsafeMutableRawPointer.allocate`, C `malloc` — is
/// served by the innermost region of the current task. Frees go to the block's owner,
/// wherever they come from. The binding is task-local: child tasks and `Task {}` inherit it,
/// `Task.detached` does not.
public struct Region: Sendable {
  @TaskLocal static var _current: _RegionNode? = nil

  let node: _RegionNode

  /// What a region does when its stack returns nil.
  public enum ExhaustionPolicy: Sendable {
    /// Stop the program with a message naming the stack, the request and the layers' report.
    case stop
    /// Serve the request from the next open region out (or the ground).
    case useOuterRegion
  }
}
