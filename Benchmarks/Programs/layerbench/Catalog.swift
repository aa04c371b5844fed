// layerbench: one row per catalog layer (Docs/Layers.md), allocate+deallocate pairs.
//
// Parents: the pools (Bonwick, Buddy, FreeList, SizeClasses) draw their slabs, blocks and spans
// from `Mmap()`; every layer that wraps a parent without carving memory of its own (Locked,
// PerThread, Align, Zero, Limit, Trace, and the primary or small stack of Fallback and BySize)
// wraps `Chunk(65536) { Mmap() }`, whose own pair is the `Chunk(65536) { Mmap() }` row; Guard,
// whose quarantine gives blocks back out of order, wraps `SizeClasses { Mmap() }`, which reuses
// them. Pools are measured with one other block of the same size live (allocated before the
// timed loop), so that a pool which gives wholly free memory back at once (Buddy, FreeList)
// is measured in its steady state, not mapping and unmapping a block per pair.
import Glibc
import Layers

/// Pairs through any layer. Generic but `@inline(never)`: the optimizer still specializes it
/// for every stack it is called with, so each row's loop is concrete code.
@inline(never)
func catalogPairs<L: Layer>(_ layer: inout L, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

/// A row: the layer as the table names it, and a runner over a fresh stack.
func catalogRow<L: Layer>(
  _ name: String, byteCount: Int, anchored: Bool = false, _ make: @escaping () -> L
) -> Configuration {
  Configuration(
    layer: name, byteCount: byteCount,
    run: pairRunner(make, catalogPairs, byteCount: byteCount, anchored: anchored))
}

/// The catalog's rows for one block size.
func catalogConfigurations(byteCount: Int) -> [Configuration] {
  [
    catalogRow("Sbrk()", byteCount: byteCount, anchored: true) { Sbrk() },
    catalogRow("Bonwick { Mmap() }", byteCount: byteCount, anchored: true) {
      Bonwick { Mmap() }
    },
    catalogRow(
      "Buddy(baseSize: 16, blockExponent: 12) { Mmap() }", byteCount: byteCount, anchored: true
    ) { Buddy(baseSize: 16, blockExponent: 12) { Mmap() } },
    catalogRow("FreeList { Mmap() }", byteCount: byteCount, anchored: true) {
      FreeList { Mmap() }
    },
    catalogRow("SizeClasses { Mmap() }", byteCount: byteCount, anchored: true) {
      SizeClasses { Mmap() }
    },
    catalogRow("Locked { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      Locked { Chunk(65536) { Mmap() } }
    },
    catalogRow("PerThread { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      PerThread { Chunk(65536) { Mmap() } }
    },
    catalogRow("Align(64) { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      Align(64) { Chunk(65536) { Mmap() } }
    },
    catalogRow("Zero { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      Zero { Chunk(65536) { Mmap() } }
    },
    catalogRow("Guard { SizeClasses { Mmap() } }", byteCount: byteCount, anchored: true) {
      Guard { SizeClasses { Mmap() } }
    },
    catalogRow("Limit(bytes: 1 << 30) { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      Limit(bytes: 1 << 30) { Chunk(65536) { Mmap() } }
    },
    catalogRow("Fallback { Chunk(65536) { … } } otherwise: { Mmap() }", byteCount: byteCount) {
      Fallback {
        Chunk(65536) { Mmap() }
      } otherwise: {
        Mmap()
      }
    },
    catalogRow("BySize(threshold: 4096) { Chunk(65536) { … } } above: …", byteCount: byteCount) {
      BySize(threshold: 4096) {
        Chunk(65536) { Mmap() }
      } above: {
        Mmap()
      }
    },
    catalogRow("Trace(to: \"/dev/null\") { Chunk(65536) { Mmap() } }", byteCount: byteCount) {
      Trace(to: "/dev/null") { Chunk(65536) { Mmap() } }
    },
    profileRow(frames: 8, byteCount: byteCount),
    profileRow(frames: 32, byteCount: byteCount),
  ]
}

/// Where the Profile rows write their profiles (at each untimed reset).
let profilePath = "/tmp/layerbench-profile-\(getpid()).json"

/// A Profile row: pairs from 40 calls deep, so that every frame the layer keeps is walked.
func profileRow(frames: Int, byteCount: Int) -> Configuration {
  Configuration(
    layer: "Profile(frames: \(frames)) { Chunk(65536) { Mmap() } }, 40 calls deep",
    byteCount: byteCount,
    run: pairRunner(
      { Profile(writingTo: profilePath, frames: frames) { Chunk(65536) { Mmap() } } },
      { layer, byteCount, iterations in
        pairsDeep(&layer, depth: 40, byteCount: byteCount, iterations: iterations)
      }, byteCount: byteCount))
}

/// `catalogPairs` called `depth` frames down the stack.
@inline(never)
func pairsDeep<L: Layer>(_ layer: inout L, depth: Int, byteCount: Int, iterations: Int) -> UInt {
  if depth == 0 { return catalogPairs(&layer, byteCount: byteCount, iterations: iterations) }
  // Not a tail call: the frame stays on the stack.
  return pairsDeep(&layer, depth: depth - 1, byteCount: byteCount, iterations: iterations)
    &+ UInt(depth & 1)
}
