public import Layers

extension Region {
  /// What `Region.measure` saw a body allocate, with the body's value.
  public struct Measurement<Value> {
    /// What the body returned.
    public var value: Value
    /// Allocations the body made (every malloc-family call it served, Swift objects,
    /// array and string storage, closure contexts included).
    public var allocations: Int
    /// Deallocations of those blocks while the body ran.
    public var deallocations: Int
    /// Bytes those allocations asked for.
    public var bytesAllocated: Int
    /// The most of those bytes live at once.
    public var peakLiveBytes: Int
    /// Blocks the body allocated that were still live when it returned (returned objects,
    /// objects stored elsewhere, leaks).
    public var liveBlocks: Int { allocations - deallocations }

    @usableFromInline
    init(
      value: Value, allocations: Int, deallocations: Int, bytesAllocated: Int,
      peakLiveBytes: Int
    ) {
      self.value = value
      self.allocations = allocations
      self.deallocations = deallocations
      self.bytesAllocated = bytesAllocated
      self.peakLiveBytes = peakLiveBytes
    }
  }

  /// Runs `body` and returns its value with the allocations it made: for tests and
  /// benchmarks that assert allocation counts (`#expect(m.allocations <= 3)`).
  ///
  /// The body runs in a region of its own over a size-class pool whose pages come from the
  /// enclosing region (the ground when there is none), so its objects live in the memory they
  /// would have lived in without the measurement, and what it returns stays valid. A layer of
  /// the enclosing region (a `Check`, a `Profile`) sees those pages, not the body's blocks.
  /// Allocations the Swift and C runtimes make for themselves (metadata, caches) are not
  /// counted; they never are in a region.
  ///
  /// In builds without the hook (under ASan or TSan, see `hookIsActive`) the counts are zero.
  @inlinable
  public static func measure<Value>(_ body: () throws -> Value) rethrows -> Measurement<Value> {
    var stack = _MeasuringLayer { SizeClasses { OuterRegionPages() } }
    let value = try Region.enter(&stack, onExhaustion: .useOuterRegion, body)
    return Measurement(
      value: value, allocations: stack.allocations, deallocations: stack.deallocations,
      bytesAllocated: stack.bytesAllocated, peakLiveBytes: stack.peakLiveBytes)
  }

  /// Runs the asynchronous `body` (and the child tasks it creates) and returns its value with
  /// the allocations they made. See ``measure(_:)-swift.type.method``.
  @inlinable
  public static func measure<Value>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Value
  ) async rethrows -> Measurement<Value> {
    var stack = _MeasuringLayer { SizeClasses { OuterRegionPages() } }
    let value = try await Region.enter(
      &stack, onExhaustion: .useOuterRegion, isolation: isolation, body)
    return Measurement(
      value: value, allocations: stack.allocations, deallocations: stack.deallocations,
      bytesAllocated: stack.bytesAllocated, peakLiveBytes: stack.peakLiveBytes)
  }
}

extension Region.Measurement: Sendable where Value: Sendable {}
