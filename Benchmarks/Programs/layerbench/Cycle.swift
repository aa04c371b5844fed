// The allocation paths of every layer, as roots for Tools/check-allocation-path: one concrete
// function per stack (`catalogCycle<…>`), run once by `layerbench --cycle`.
import Layers

/// One allocate, deallocate and reset of each kind a layer has (a small block, a block over
/// the pools' class sizes, a block over a page, an aligned one): the roots that
/// `Tools/check-allocation-path` walks for every catalog layer. Generic but `@inline(never)`,
/// so each stack gets a concrete copy.
@inline(never)
func catalogCycle<L: Layer>(_ layer: inout L) -> UInt {
  var checksum = cycleOnce(&layer, byteCount: 24, alignment: 16)
  checksum &+= cycleOnce(&layer, byteCount: 40_000, alignment: 16)
  checksum &+= cycleOnce(&layer, byteCount: 5000, alignment: 4096)
  checksum &+= cycleOnce(&layer, byteCount: 100, alignment: 64)
  layer.reset()
  return checksum
}

@inline(__always)
func cycleOnce<L: Layer>(_ layer: inout L, byteCount: Int, alignment: Int) -> UInt {
  guard let block = layer.allocate(byteCount: byteCount, alignment: alignment) else { return 0 }
  layer.deallocate(block, byteCount: byteCount, alignment: alignment)
  return UInt(bitPattern: block)
}

/// A cycle through every layer of the catalog, each over a parent that serves it, and through
/// the deliberately broken layer (`brokenLayerCycle`); returns a checksum.
func cycleEveryLayer() -> UInt {
  var checksum: UInt = 0
  func run<L: Layer>(_ make: () -> L) {
    var layer = make()
    checksum &+= catalogCycle(&layer)
  }
  run { Mmap() }
  run { ProcessAllocator() }
  run { GroundPages() }
  run { OuterRegionPages() }
  run { Sbrk() }
  run { Chunk(65536) { Mmap() } }
  run { Batch { Mmap() } }
  run { Stats { Mmap() } }
  run { Check { Mmap() } }
  run { Bypass { Mmap() } }
  run { Stats { Chunk(4096) { Batch { Check { Mmap() } } } } }
  run { Bonwick { Mmap() } }
  run { Buddy(baseSize: 16, blockExponent: 12) { Mmap() } }
  run { FreeList { Mmap() } }
  run { SizeClasses { Mmap() } }
  run { Locked { Chunk(65536) { Mmap() } } }
  run { PerThread { SizeClasses { Mmap() } } }
  run { Align(64) { Chunk(65536) { Mmap() } } }
  run { Zero { Chunk(65536) { Mmap() } } }
  run { Guard { SizeClasses { Mmap() } } }
  run { Guard(.pages) { Mmap() } }
  run { Limit(bytes: 1 << 30) { Chunk(65536) { Mmap() } } }
  run {
    Fallback {
      Chunk(65536) { Mmap() }
    } otherwise: {
      Mmap()
    }
  }
  run {
    BySize(threshold: 4096) {
      Chunk(65536) { Mmap() }
    } above: {
      Mmap()
    }
  }
  run { Trace(to: "/dev/null") { Chunk(65536) { Mmap() } } }
  run { Profile(writingTo: profilePath, frames: 8) { Chunk(65536) { Mmap() } } }
  checksum &+= brokenLayerCycle()
  return checksum
}
