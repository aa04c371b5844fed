import Layers
import RegionsTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

extension ConformanceChecker.Counts {
  /// The counts a Stats layer keeps, in the checker's terms.
  init<Parent>(_ stats: Stats<Parent>) {
    self.init(
      allocations: stats.allocations, deallocations: stats.deallocations,
      bytesAllocated: stats.bytesAllocated, bytesDeallocated: stats.bytesDeallocated)
  }
}

extension ConformanceChecker.Options {
  /// The default options with `resetReclaimsBlocks` set: false for layers whose `reset`
  /// does not take back live blocks (sources, Stats, Check on top).
  static func reclaiming(_ resetReclaimsBlocks: Bool) -> Self {
    var options = Self()
    options.resetReclaimsBlocks = resetReclaimsBlocks
    return options
  }
}

/// The OS page size, asked of the OS (not of the layers under test).
let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

/// The text an exit test captured on standard error.
func standardError(_ result: ExitTest.Result?) -> String {
  guard let bytes = result?.standardErrorContent else { return "" }
  return String(decoding: bytes, as: UTF8.self)
}

extension Layer {
  /// Allocates a block, recording an issue and throwing if the layer returns nil.
  mutating func mustAllocate(
    byteCount: Int, alignment: Int, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> UnsafeMutableRawPointer {
    let pointer = allocate(byteCount: byteCount, alignment: alignment)
    return try #require(pointer, sourceLocation: sourceLocation)
  }
}
