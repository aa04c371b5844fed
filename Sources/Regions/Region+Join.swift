import RegionMacrosSupport

extension Region {
  /// Runs `body` with its allocations going to this region, on the calling thread: for
  /// threads that the task tree does not reach (a `Thread`, a C library's worker).
  ///
  /// If the region has closed, allocations go to the next open region out, or the ground.
  @discardableResult
  public func join<Result>(_ body: () throws -> Result) rethrows -> Result {
    try _Bindings.withSyncBinding(node, body)
  }

  /// Runs the asynchronous `body` (and the child tasks it creates) with its allocations
  /// going to this region.
  @discardableResult
  public func join<Result>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
  ) async rethrows -> Result {
    try await _Bindings.withAsyncBinding(node, isolation: isolation, body)
  }

  /// Calls `body` with the region's stack, under the region's lock, if the stack is a
  /// `Stack`; nil if it is another type or the region has closed.
  ///
  /// Allocations `body` makes go to the ground (the region's lock is held).
  public func inspect<Stack: Layer, Result>(
    _ type: Stack.Type, _ body: (Stack) -> Result
  ) -> Result? {
    guard node.stackType == ObjectIdentifier(Stack.self) else { return nil }
    return node.core.withLock {
      guard node.core.pointee.isOpen else { return nil }
      return body(node.stack.assumingMemoryBound(to: Stack.self).pointee)
    }
  }
}

/// What the runtime holds process-wide, for tests and monitoring.
public struct RegionMemory: Sendable, Equatable {
  /// Page ranges recorded as region spans (open regions' pages and withheld ones).
  public var spans: Int
  /// Bytes in those spans.
  public var spanBytes: Int
  /// Spans kept from the OS after their stack gave them back, because a block in them is live.
  public var withheldSpans: Int
  /// Bytes in withheld spans (address space kept from reuse).
  public var withheldBytes: Int
  /// Bytes of withheld spans still resident: the pages that hold live blocks (the scan that
  /// withholds a span gives the others back to the OS).
  public var withheldResidentBytes: Int
  /// Bytes of pages kept for reuse by the next region (see `Region.releaseCachedPages()`).
  public var cachedBytes: Int
}

extension Region {
  /// What the runtime holds right now, process-wide.
  public static var memory: RegionMemory {
    RegionMemory(
      spans: regions_counter_get(regions_counter_spans),
      spanBytes: regions_counter_get(regions_counter_span_bytes),
      withheldSpans: regions_counter_get(regions_counter_withheld_spans),
      withheldBytes: regions_counter_get(regions_counter_withheld_bytes),
      withheldResidentBytes: regions_counter_get(regions_counter_withheld_resident_bytes),
      cachedBytes: regions_counter_get(regions_counter_cached_bytes))
  }
}
