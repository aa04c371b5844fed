// A deliberately broken layer: it creates an array (an object, through swift_allocObject) and
// reads a lazy global (swift_once) on its allocation path. Tools/check-allocation-path
// --self-test must find both: it is the proof that the check sees such faults.
import Layers

/// Sizes it has seen, in an array: an allocation on the allocation path.
struct BrokenLayer<Parent: Layer>: WrappingLayer {
  var parent: Parent
  static var greeting: String { _brokenGreeting }

  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    let sizes = [byteCount, alignment, Self.greeting.utf8.count]
    return parent.allocate(byteCount: sizes[0], alignment: sizes[1])
  }
}

/// A lazy global: its first use runs its initializer under `swift_once`.
let _brokenGreeting = String(repeating: "hello ", count: Int.random(in: 1...3))

@inline(never)
func brokenLayerCycle() -> UInt {
  var layer = BrokenLayer(parent: Chunk(65536) { Mmap() })
  guard let block = layer.allocate(byteCount: 24, alignment: 16) else { return 0 }
  layer.deallocate(block, byteCount: 24, alignment: 16)
  layer.reset()
  return UInt(bitPattern: block)
}
