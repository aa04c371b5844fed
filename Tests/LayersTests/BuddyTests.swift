import Layers
import RegionsTestSupport
import Testing

@Suite("Buddy")
struct BuddyTests {
  @Test func passesTheConformanceChecker() {
    // 256 KiB blocks of 16-byte units; larger requests go to the parent.
    var stack = Stats {
      Buddy(baseSize: 16, blockExponent: 14) { Check(onLeak: .report) { Mmap() } }
    }
    let outcome = ConformanceChecker.run(&stack, counters: statsCounts)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.parent.parent.leakedBlocks == 0)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func passesTheConformanceCheckerWithABaseSizeThatIsNotAPowerOfTwo() {
    // 48-byte units (aligned to 16): alignments above 16 take longer runs.
    var stack = Stats {
      Buddy(baseSize: 48, blockExponent: 12) { Check(onLeak: .report) { Mmap() } }
    }
    var options = ConformanceChecker.Options()
    options.operations = 60_000
    options.seed = 48
    let outcome = ConformanceChecker.run(&stack, options: options, counters: statsCounts)
    #expect(outcome.violations == [])
    #expect(stack.parent.parent.leakedBlocks == 0)
  }

  @Test func thePictureMatchesAKnownSequence() throws {
    var pool = Buddy(baseSize: 16, blockExponent: 3) { Stats { Mmap() } }
    #expect(pool.fillMap == "")
    let a = try pool.requireBlock(16)
    #expect(pool.fillMap == "0 #       \n")
    let b = try pool.requireBlock(32)
    #expect(pool.fillMap == "0 # #+    \n")
    let c = try pool.requireBlock(1)
    #expect(pool.fillMap == "0 ###+    \n")
    let d = try pool.requireBlock(64)
    #expect(pool.fillMap == "0 ###+#+++\n")
    // The block is full: the next request opens block 1.
    let e = try pool.requireBlock(100)  // rounds up to 8 units: the whole block
    #expect(pool.fillMap == "0 ###+#+++\n1 #+++++++\n")
    pool.deallocate(a, byteCount: 16, alignment: 16)
    #expect(pool.fillMap == "0  ##+#+++\n1 #+++++++\n")
    pool.deallocate(b, byteCount: 32, alignment: 16)
    #expect(pool.fillMap == "0  #  #+++\n1 #+++++++\n")
    // A wholly free block goes back to the parent; its index is reused.
    pool.deallocate(e, byteCount: 100, alignment: 16)
    #expect(pool.fillMap == "0  #  #+++\n")
    #expect(pool.blocksReturned == 1)
    let f = try pool.requireBlock(48)  // 4 units: block 0 has none free, so a new block 1
    #expect(pool.fillMap == "0  #  #+++\n1 #+++    \n")
    pool.deallocate(c, byteCount: 1, alignment: 16)
    pool.deallocate(d, byteCount: 64, alignment: 16)
    pool.deallocate(f, byteCount: 48, alignment: 16)
    #expect(pool.fillMap == "")
    #expect(pool.blockCount == 0)
    #expect(pool.blocksRequested == 3)
    pool.reset()  // gives back the block directory too
    #expect(pool.parent.liveBytes == 0)
  }

  @Test func buddiesMerge() throws {
    var pool = Buddy(baseSize: 16, blockExponent: 3) { Stats { Mmap() } }
    var units: [UnsafeMutableRawPointer] = []
    for _ in 0..<8 { units.append(try pool.requireBlock(16)) }
    #expect(pool.fillMap == "0 ########\n")
    let base = UInt(bitPattern: units[0])
    #expect(units.map { UInt(bitPattern: $0) - base } == [0, 16, 32, 48, 64, 80, 96, 112])
    // Units 2 and 3 are buddies: freed, they merge into a 32-byte run.
    pool.deallocate(units[2], byteCount: 16, alignment: 16)
    pool.deallocate(units[3], byteCount: 16, alignment: 16)
    #expect(pool.fillMap == "0 ##  ####\n")
    let pair = try pool.requireBlock(32)
    #expect(pair == units[2])
    #expect(pool.fillMap == "0 ###+####\n")
    #expect(pool.blockCount == 1)
    // Units 5 and 6 are neighbours but not buddies: no 32-byte run, so a new block serves it.
    pool.deallocate(units[5], byteCount: 16, alignment: 16)
    pool.deallocate(units[6], byteCount: 16, alignment: 16)
    #expect(pool.fillMap == "0 ###+#  #\n")
    let elsewhere = try pool.requireBlock(32)
    #expect(pool.blockCount == 2)
    #expect(pool.fillMap == "0 ###+#  #\n1 #+      \n")
    #expect(pool.fragmentation(of: elsewhere) == 0.25)
    pool.reset()
    #expect(pool.parent.liveBytes == 0)
  }

  @Test func fragmentationFollowsMemorypool() throws {
    var pool = Buddy(baseSize: 16, blockExponent: 3) { Mmap() }
    let one = try pool.requireBlock(16)
    // Largest free runs: 2 units in the first half, 4 in the second: 1 − 6/8.
    #expect(pool.fragmentation(of: one) == 0.25)
    let half = try pool.requireBlock(16 * 4)
    #expect(pool.fragmentation(of: half + 10) == 0.75)  // 1 − 2/8
    _ = try pool.requireBlock(32)
    #expect(pool.fragmentation(of: one) == 0.875)  // 1 − 1/8
    _ = try pool.requireBlock(16)
    #expect(pool.fragmentation(of: one) == 1)  // full
    var outside = 0
    #expect(pool.fragmentation(of: &outside) == nil)
    pool.reset()
  }

  @Test func largeRequestsGoToTheParent() throws {
    var pool = Buddy(baseSize: 64, blockExponent: 4) { RecordingParent { Mmap() } }
    let large = try pool.requireBlock(2048)  // a block holds 1 KiB
    #expect(pool.largeBlockCount == 1)
    #expect(pool.blockCount == 0)
    #expect(pool.parent.block(at: UInt(bitPattern: large)) == .init(byteCount: 2048, alignment: 16))
    #expect(pool.fragmentation(of: large) == nil)
    let aligned = try pool.requireBlock(64, alignment: 8192)  // beyond the blocks' alignment
    #expect(
      pool.parent.block(at: UInt(bitPattern: aligned)) == .init(byteCount: 64, alignment: 8192))
    pool.deallocate(large, byteCount: 2048, alignment: 16)
    #expect(pool.largeBlockCount == 1)
    pool.reset()
    #expect(pool.parent.live.isEmpty)
  }

  @Test func aDoubleFreeStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var pool = Buddy(baseSize: 16, blockExponent: 4) { Mmap() }
      let block = pool.allocate(byteCount: 16, alignment: 16)!
      _ = pool.allocate(byteCount: 16, alignment: 16)!
      pool.deallocate(block, byteCount: 16, alignment: 16)
      pool.deallocate(block, byteCount: 16, alignment: 16)
    }
    #expect(standardError(result).contains("not in use"))
  }
}
