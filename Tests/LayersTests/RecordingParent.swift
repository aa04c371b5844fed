import Layers
import RegionsTestSupport
import Testing

/// A test layer that forwards to its parent and remembers every block it handed out that is
/// still live (address → byteCount, alignment), so policy tests can see what a layer asks of
/// its parent. Test code only: it allocates (a Dictionary) on every call.
struct RecordingParent<Parent: Layer>: WrappingLayer {
  struct Request: Equatable {
    var byteCount: Int
    var alignment: Int
  }

  var parent: Parent
  var live: [UInt: Request] = [:]
  var allocations = 0
  var deallocations = 0

  init(@LayerBuilder parent: () -> Parent) {
    self.parent = parent()
  }

  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard let block = parent.allocate(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    allocations += 1
    live[UInt(bitPattern: block)] = Request(byteCount: byteCount, alignment: alignment)
    return block
  }

  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    deallocations += 1
    let request = live.removeValue(forKey: UInt(bitPattern: pointer))
    precondition(
      request == Request(byteCount: byteCount, alignment: alignment),
      "RecordingParent: deallocate(\(pointer), \(byteCount), \(alignment)) does not match \(String(describing: request))"
    )
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// The live parent block starting at `address`.
  func block(at address: UInt) -> Request? { live[address] }
}

/// The counts a `Stats` layer keeps, in the conformance checker's terms.
func statsCounts<P>(_ stats: Stats<P>) -> ConformanceChecker.Counts {
  ConformanceChecker.Counts(
    allocations: stats.allocations, deallocations: stats.deallocations,
    bytesAllocated: stats.bytesAllocated, bytesDeallocated: stats.bytesDeallocated)
}

extension Layer {
  /// Allocates, recording an issue and throwing when the layer returns nil.
  mutating func requireBlock(
    _ byteCount: Int, alignment: Int = 16, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> UnsafeMutableRawPointer {
    let block = allocate(byteCount: byteCount, alignment: alignment)
    return try #require(block, sourceLocation: sourceLocation)
  }
}

/// What an exit test's child process wrote to standard error ("" when there is no result).
func standardError(_ result: ExitTest.Result?) -> String {
  result.map { String(decoding: $0.standardErrorContent, as: UTF8.self) } ?? ""
}
