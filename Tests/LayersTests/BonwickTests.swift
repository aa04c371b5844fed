import Layers
import RegionsTestSupport
import Testing

@Suite("Bonwick")
struct BonwickTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { Bonwick { Check(onLeak: .report) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack, counters: statsCounts)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    // Check under Bonwick saw every slab and large block come back by the last reset.
    #expect(stack.parent.parent.leakedBlocks == 0)
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  @Test func emptySlabsGoBackToTheParentBeyondTheCache() throws {
    var bonwick = Bonwick(cachedSlabsPerBucket: 2) { Stats { Mmap() } }
    // 1 KiB blocks: 64 KiB slabs, the header takes the first slot, 63 blocks per slab.
    let slabSize = try #require(Bonwick<Mmap>.slabSize(forByteCount: 1024, alignment: 8))
    #expect(slabSize == 65536)
    var blocks: [UnsafeMutableRawPointer] = []
    for _ in 0..<(63 * 5) {
      blocks.append(try bonwick.requireBlock(1024, alignment: 8))
    }
    #expect(bonwick.parent.allocations == 5)
    #expect(bonwick.slabCount == 5)
    for block in blocks { bonwick.deallocate(block, byteCount: 1024, alignment: 8) }
    #expect(bonwick.parent.deallocations == 3)
    #expect(bonwick.slabsReturned == 3)
    #expect(bonwick.cachedSlabCount == 2)
    #expect(bonwick.parent.liveBytes == 2 * slabSize)
    // The cached slabs serve the next requests without asking the parent.
    for _ in 0..<(63 * 2) {
      _ = try bonwick.requireBlock(1000, alignment: 16)
    }
    #expect(bonwick.parent.allocations == 5)
    #expect(bonwick.cachedSlabCount == 0)
    bonwick.reset()
    #expect(bonwick.parent.liveBytes == 0)
    #expect(bonwick.slabCount == 0)
  }

  @Test func theSlabHeaderIsFoundByMaskingTheAddress() throws {
    var bonwick = Bonwick { RecordingParent { Mmap() } }
    let requests = [(1, 1), (16, 16), (100, 8), (5000, 64), (70_000, 4096), (131_072, 16)]
    for (byteCount, alignment) in requests {
      let block = UInt(bitPattern: try bonwick.requireBlock(byteCount, alignment: alignment))
      let slabSize = try #require(
        Bonwick<Mmap>.slabSize(forByteCount: byteCount, alignment: alignment))
      let slab = block & ~UInt(slabSize - 1)
      // The masked address is a slab the parent handed out, sized and aligned to the slab size.
      #expect(bonwick.parent.block(at: slab) == .init(byteCount: slabSize, alignment: slabSize))
      let bucketSize = max(byteCount, alignment, 16).nextPowerOfTwo
      #expect(block % UInt(bucketSize) == 0)
      #expect(block > slab)
    }
    #expect(Bonwick<Mmap>.slabSize(forByteCount: 131_073, alignment: 1) == nil)
  }

  @Test func aCorruptedSlabHeaderStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var bonwick = Bonwick { Mmap() }
      let block = bonwick.allocate(byteCount: 32, alignment: 8)!
      let slabSize = Bonwick<Mmap>.slabSize(forByteCount: 32, alignment: 8)!
      let header = UnsafeMutableRawPointer(
        bitPattern: UInt(bitPattern: block) & ~UInt(slabSize - 1))!
      header.storeBytes(of: 0, as: UInt.self)
      bonwick.deallocate(block, byteCount: 32, alignment: 8)
    }
    #expect(standardError(result).contains("slab header found by masking"))
  }

  @Test func aWrongSizeStopsTheProgram() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var bonwick = Bonwick { Mmap() }
      let block = bonwick.allocate(byteCount: 32, alignment: 8)!
      bonwick.deallocate(block, byteCount: 64, alignment: 8)
    }
    #expect(standardError(result).contains("wrong byteCount"))
  }

  @Test func theBigCacheReusesFreedLargeBlocks() throws {
    var bonwick = Bonwick(bigCacheCapacity: 2) { RecordingParent { Mmap() } }
    let kib = 1024
    let first = try bonwick.requireBlock(300 * kib, alignment: 16)
    let parentCalls = bonwick.parent.allocations
    bonwick.deallocate(first, byteCount: 300 * kib, alignment: 16)
    #expect(bonwick.bigCacheCount == 1)
    // A smaller request (but more than half) takes the cached block: same address, no parent call.
    let again = try bonwick.requireBlock(280 * kib, alignment: 64)
    #expect(again == first)
    #expect(bonwick.parent.allocations == parentCalls)
    #expect(bonwick.bigCacheHits == 1)
    bonwick.deallocate(again, byteCount: 280 * kib, alignment: 64)
    // Too large, or less than half: the parent serves it.
    let larger = try bonwick.requireBlock(400 * kib, alignment: 16)
    let smaller = try bonwick.requireBlock(140 * kib, alignment: 16)
    #expect(larger != first && smaller != first)
    #expect(bonwick.parent.allocations == parentCalls + 2)
    // The cache holds two. When it is full, the smallest of the cached blocks and the freed
    // one goes back to the parent.
    let third = try bonwick.requireBlock(500 * kib, alignment: 16)
    bonwick.deallocate(larger, byteCount: 400 * kib, alignment: 16)
    #expect(bonwick.bigCacheCount == 2)  // first (300 KiB) and larger (400 KiB)
    let returnedBefore = bonwick.parent.deallocations
    bonwick.deallocate(smaller, byteCount: 140 * kib, alignment: 16)
    #expect(bonwick.parent.deallocations == returnedBefore + 1)
    #expect(bonwick.parent.block(at: UInt(bitPattern: smaller)) == nil)
    #expect(bonwick.parent.block(at: UInt(bitPattern: first)) != nil)
    bonwick.deallocate(third, byteCount: 500 * kib, alignment: 16)
    #expect(bonwick.bigCacheCount == 2)
    #expect(bonwick.parent.block(at: UInt(bitPattern: first)) == nil)
    #expect(bonwick.parent.block(at: UInt(bitPattern: third)) != nil)
    #expect(bonwick.parent.block(at: UInt(bitPattern: larger)) != nil)
    bonwick.reset()
    #expect(bonwick.parent.live.isEmpty)
  }
}

extension Int {
  fileprivate var nextPowerOfTwo: Int {
    self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
  }
}
