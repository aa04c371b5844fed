import Layers
import RegionsTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

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
