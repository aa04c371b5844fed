import Layers
import Testing

@Suite("ProcessAllocator: the process allocator")
struct SystemTests {
  @Test(arguments: 0...12)
  func honorsAlignment(exponent: Int) throws {
    let alignment = 1 << exponent
    var system = ProcessAllocator()
    var blocks: [UnsafeMutableRawPointer] = []
    for size in [1, 24, 100, 5000] {
      let block = try system.requireBlock(size, alignment: alignment)
      #expect(Int(bitPattern: block) % alignment == 0)
      block.initializeMemory(as: UInt8.self, repeating: 0x5A, count: size)
      blocks.append(block)
    }
    for (block, size) in zip(blocks, [1, 24, 100, 5000]) {
      system.deallocate(block, byteCount: size, alignment: alignment)
    }
  }

  @Test func returnsNilWhenTheProcessAllocatorDoes() {
    var system = ProcessAllocator()
    #expect(system.allocate(byteCount: Int.max, alignment: 1) == nil)
    #expect(system.allocate(byteCount: Int.max - 4096, alignment: 4096) == nil)
  }

  @Test func isNotThreadSafeAndReportsItsName() {
    #expect(ProcessAllocator.isThreadSafe == false)
    #expect(ProcessAllocator().report == "ProcessAllocator")
  }
}
