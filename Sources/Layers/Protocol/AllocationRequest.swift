/// Checks and arithmetic for allocation requests, shared by every built-in layer and
/// available to third-party layers.
public enum AllocationRequest {
  /// Stops the program with a clear message unless `byteCount >= 0` and `alignment` is a
  /// positive power of two.
  ///
  /// - Complexity: O(1); two compares on the fast path.
  @inlinable @inline(__always)
  public static func validate(byteCount: Int, alignment: Int) {
    if _slowPath(byteCount < 0 || alignment <= 0 || alignment & (alignment &- 1) != 0) {
      _invalid(byteCount: byteCount, alignment: alignment)
    }
  }

  /// Stops the program with `message`, in every build configuration: the one way built-in
  /// layers stop on bad input, and the one to use in your own layers.
  ///
  /// `precondition` drops its message in optimized builds; this keeps it. Call it on an
  /// `@inline(never)` path (or outside the allocation path): building the message allocates.
  @inline(never)
  public static func stop(_ message: @autoclosure () -> String) -> Never {
    fatalError(message())
  }

  @usableFromInline @inline(never)
  internal static func _invalid(byteCount: Int, alignment: Int) -> Never {
    if byteCount < 0 {
      stop("Regions: byteCount must not be negative (got \(byteCount))")
    }
    stop("Regions: alignment must be a positive power of two (got \(alignment))")
  }

  /// `value` rounded up to a multiple of `alignment` (a power of two).
  ///
  /// - Precondition: the result is representable as `Int`; stops the program otherwise.
  @inlinable @inline(__always)
  public static func roundUp(_ value: Int, to alignment: Int) -> Int {
    let (sum, overflow) = value.addingReportingOverflow(alignment &- 1)
    if _slowPath(overflow) { _overflow(value, alignment) }
    return sum & ~(alignment &- 1)
  }

  /// `a + b`, stopping the program with a clear message if the sum overflows.
  @inlinable @inline(__always)
  public static func add(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if _slowPath(overflow) { _overflow(a, b) }
    return sum
  }

  @usableFromInline @inline(never)
  internal static func _overflow(_ a: Int, _ b: Int) -> Never {
    stop("Regions: size arithmetic overflows (\(a) + \(b)): the request is too large")
  }
}
