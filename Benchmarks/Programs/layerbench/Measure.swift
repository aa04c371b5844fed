// Timing and formatting for layerbench.
import BenchSupport
import Layers

#if canImport(Glibc)
  import Glibc
#endif

/// A configuration: a name, a size, and a function that runs `n` operations and returns the
/// nanoseconds they took (plus a checksum).
struct Configuration {
  var layer: String
  var byteCount: Int
  var isAllocateOnly = false
  var run: (_ operations: Int) -> (nanoseconds: UInt64, checksum: UInt)
  /// Operations per measurement, set by calibration.
  var operations = 0
  var samples: [Double] = []
}

/// Times pairs through a fresh stack made by `make`, reset (untimed) afterwards. With
/// `anchored`, one other block of the same size is live during the timed loop (allocated
/// before it, freed after it, untimed), as in a pool that holds other blocks.
func pairRunner<L: Layer>(
  _ make: @escaping () -> L, _ loop: @escaping (inout L, Int, Int) -> UInt, byteCount: Int,
  anchored: Bool = false
) -> (Int) -> (nanoseconds: UInt64, checksum: UInt) {
  var layer = make()
  return { operations in
    let anchor = anchored ? layer.allocate(byteCount: byteCount, alignment: 16)! : nil
    let start = nanoseconds()
    let checksum = loop(&layer, byteCount, operations)
    let elapsed = nanoseconds() - start
    if let anchor { layer.deallocate(anchor, byteCount: byteCount, alignment: 16) }
    layer.reset()
    return (elapsed, checksum)
  }
}

/// Times allocations in batches of 4 MiB of blocks (64 chunks of 64 KiB), so that chunk
/// refills (a new chunk from the parent) fall as often as in a long-running arena and are
/// timed; the reset after each batch is not.
func allocationRunner<L: Layer>(
  _ make: @escaping () -> L, _ loop: @escaping (inout L, Int, Int) -> UInt, byteCount: Int
) -> (Int) -> (nanoseconds: UInt64, checksum: UInt) {
  var layer = make()
  return { operations in
    var elapsed: UInt64 = 0
    var checksum: UInt = 0
    var done = 0
    while done < operations {
      let batch = Swift.min((4 << 20) / byteCount, operations - done)
      let start = nanoseconds()
      checksum &+= loop(&layer, byteCount, batch)
      elapsed += nanoseconds() - start
      layer.reset()
      done += batch
    }
    return (elapsed, checksum)
  }
}

// MARK: - Formatting

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func formatted(_ value: Double, _ decimals: Int) -> String {
  var text = String(Int((value * pow(10, Double(decimals))).rounded()))
  if decimals > 0 {
    while text.count <= decimals { text = "0" + text }
    text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
  }
  return text
}

func padded(_ text: String, _ width: Int, left: Bool = false) -> String {
  let padding = String(repeating: " ", count: Swift.max(0, width - text.count))
  return left ? text + padding : padding + text
}
