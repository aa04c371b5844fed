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
    #expect(stack.parent.spansRequested > 0)
    #expect(stack.parent.parent.spansRequested > 0)
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
}
