// A layer written outside the Regions package, using only its public API.
// Docs/WritingALayer.md walks through this file line by line.

public import Regions

/// Counts requests in power-of-two size buckets: ≤ 16 B, ≤ 32 B, … ≤ 16 KiB, and larger.
///
/// It changes nothing about the memory: every request goes to the parent, and the parent's
/// answer (a block or nil) comes back unchanged. Only allocations the parent served and
/// deallocations are counted; the counts survive `reset`.
///
/// ```swift
/// var stack = Stats { SizeHistogram { Chunk(4096) { Mmap() } } }
/// ```
///
/// - Complexity: a bit count and two additions per allocate or deallocate.
/// - Failure: nil from the parent is passed up and not counted.
/// - Bad input: a negative `byteCount` or an alignment that is not a power of two stops the
///   program with a message (see ``AllocationRequest``).
/// - Thread safety: none; the counters are plain integers (`isThreadSafe` stays false).
public struct SizeHistogram<Parent: Layer>: WrappingLayer {
  /// One counter per bucket, stored inline in the layer: no heap allocation, ever.
  @usableFromInline internal typealias _Counters = InlineArray<12, Int>

  /// The number of buckets: 11 powers of two from 16 B to 16 KiB, then one for larger.
  public static var bucketCount: Int { _Counters.count }

  public var parent: Parent
  @usableFromInline internal var _allocations = _Counters(repeating: 0)
  @usableFromInline internal var _deallocations = _Counters(repeating: 0)

  /// A layer that counts the sizes of the requests it passes to `parent`.
  @inlinable
  public init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  /// The bucket for a request of `byteCount` bytes: 0 for 0…16 B, 1 for 17…32 B, …,
  /// `bucketCount - 1` for everything above 16 KiB.
  @inlinable @inline(__always)
  public static func bucket(byteCount: Int) -> Int {
    if byteCount <= 16 { return 0 }
    // Bits needed for byteCount - 1: 17…32 need 5, 33…64 need 6, and so on.
    let bits = Int.bitWidth &- (byteCount &- 1).leadingZeroBitCount
    return Swift.min(bits &- 4, bucketCount &- 1)
  }

  /// The largest request that falls in `bucket`, or nil for the last (unbounded) one.
  public static func upperBound(ofBucket bucket: Int) -> Int? {
    bucket < bucketCount - 1 ? 16 << bucket : nil
  }

  /// Allocations served so far whose size falls in `bucket`.
  public func allocations(inBucket bucket: Int) -> Int { _allocations[bucket] }

  /// Deallocations so far whose size falls in `bucket`.
  public func deallocations(inBucket bucket: Int) -> Int { _deallocations[bucket] }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    guard let pointer = parent.allocate(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    _allocations[Self.bucket(byteCount: byteCount)] &+= 1
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    // Sized deallocation: the caller says how big the block was, so no lookup is needed.
    _deallocations[Self.bucket(byteCount: byteCount)] &+= 1
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  // reset() is not written: this layer holds no memory, so the forwarding default (reset
  // the parent) is right, and the counters survive as the protocol asks.

  public func appendReport(to lines: inout [String]) {
    var buckets: [String] = []
    for bucket in 0..<Self.bucketCount where _allocations[bucket] > 0 {
      buckets.append("\(Self.label(ofBucket: bucket)): \(_allocations[bucket])")
    }
    let counts = buckets.isEmpty ? "no allocations" : buckets.joined(separator: ", ")
    lines.append("SizeHistogram: \(counts)")
    parent.appendReport(to: &lines)
  }

  /// A short name for `bucket`: `≤ 64 B`, `≤ 4 KiB`, `> 16 KiB`.
  public static func label(ofBucket bucket: Int) -> String {
    guard let bound = upperBound(ofBucket: bucket) else {
      return "> \(Self.byteLabel(16 << (bucketCount - 2)))"
    }
    return "≤ \(Self.byteLabel(bound))"
  }

  static func byteLabel(_ bytes: Int) -> String {
    bytes >= 1024 ? "\(bytes / 1024) KiB" : "\(bytes) B"
  }
}
