import Layers
import RegionsTestSupport
import Testing

@Suite("Pools compose with each other and with the core layers")
struct PoolCompositionTests {
  @Test func segregatedFitsOverAFreeListOverSlabs() {
    var stack = Stats {
      SizeClasses { FreeList { Bonwick { Check(onLeak: .report) { Mmap() } } } }
    }
    var options = ConformanceChecker.Options()
    options.operations = 100_000
    options.seed = 7
    let outcome = ConformanceChecker.run(&stack, options: options, counters: statsCounts)
    #expect(outcome.violations == [])
    let check = stack.parent.parent.parent.parent
    #expect(check.leakedBlocks == 0 && check.liveBlocks == 0)
    // Every pool in the stack was used: FreeList's spans came from Bonwick's big cache path.
    #expect(stack.parent.slabsRequested > 0)
    #expect(stack.parent.parent.slabsRequested > 0)
  }

  @Test func slabsOverABuddySystem() {
    // A power-of-two base size: every run is aligned to its size, as Bonwick's slabs need.
    var stack = Stats {
      Bonwick { Buddy(baseSize: 65536, blockExponent: 5) { Check(onLeak: .report) { Mmap() } } }
    }
    var options = ConformanceChecker.Options()
    options.operations = 100_000
    options.seed = 11
    let outcome = ConformanceChecker.run(&stack, options: options, counters: statsCounts)
    #expect(outcome.violations == [])
    let buddy = stack.parent.parent
    #expect(buddy.blocksRequested > 0)
    #expect(buddy.parent.leakedBlocks == 0 && buddy.parent.liveBlocks == 0)
  }

  @Test func coreLayersOverPools() {
    var stack = Stats {
      Chunk(16384) { Check { Batch { Buddy(baseSize: 32, blockExponent: 12) { Mmap() } } } }
    }
    var options = ConformanceChecker.Options()
    options.operations = 100_000
    let outcome = ConformanceChecker.run(&stack, options: options, counters: statsCounts)
    #expect(outcome.violations == [])
    let check = stack.parent.parent
    #expect(check.liveBlocks == 0 && check.leakedBlocks == 0)  // Chunk gave every chunk back
    #expect(check.parent.parent.blockCount == 0)  // and Buddy every block
  }

  @Test func alignmentsBeyondAPageGoToTheParent() throws {
    let requests = [(100, 8192), (100, 65536), (300_000, 1 << 20), (5000, 1 << 21)]
    func exercise<L: Layer>(_ layer: inout L) throws {
      var blocks: [(UnsafeMutableRawPointer, Int, Int)] = []
      for (byteCount, alignment) in requests {
        let block = try layer.requireBlock(byteCount, alignment: alignment)
        #expect(UInt(bitPattern: block) % UInt(alignment) == 0)
        block.initializeMemory(as: UInt8.self, repeating: 1, count: byteCount)
        blocks.append((block, byteCount, alignment))
      }
      for (block, byteCount, alignment) in blocks {
        layer.deallocate(block, byteCount: byteCount, alignment: alignment)
      }
      layer.reset()
    }
    var bonwick = Bonwick { Check { Mmap() } }
    try exercise(&bonwick)
    var buddy = Buddy(baseSize: 16, blockExponent: 10) { Check { Mmap() } }
    try exercise(&buddy)
    var freeList = FreeList { Check { Mmap() } }
    try exercise(&freeList)
    var sizeClasses = SizeClasses { Check { Mmap() } }
    try exercise(&sizeClasses)
    // Check (stopping on a leak) saw everything come back at each reset.
    #expect(bonwick.parent.leakedBlocks + buddy.parent.leakedBlocks == 0)
    #expect(freeList.parent.leakedBlocks + sizeClasses.parent.leakedBlocks == 0)
  }
}
