import Regions
import RegionsTestSupport
import Testing

@Suite("A Guard(.pages) region past the kernel's mapping limit", .hookMode)
struct GuardLimitInRegionTests {
  @Test func theOuterRegionServesWhatGuardCannot() async {
    await #expect(processExitsWith: .success) {
      var outer = Stats { Chunk(1 << 20) { Mmap() } }
      var guarded = Guard(.pages, quarantineBlocks: 0) { Mmap() }
      let servedOutside = Region.enter(&outer) { () -> Int in
        // The outer region's chunk, mapped before the limit is reached: room for what it will
        // serve then.
        let first = opaqueMalloc(16)
        defer { opaqueFree(first) }
        let outerRegion = Region.current!
        return Region.enter(&guarded, onExhaustion: .useOuterRegion) { () -> Int in
          let region = Region.current!
          var blocks: [UnsafeMutableRawPointer] = []
          blocks.reserveCapacity(200_000)
          let before = region.liveBlocks
          // Guarded blocks until the kernel refuses a mapping or a protection: from then on,
          // the region outside serves.
          while region.liveBlocks - before == blocks.count && blocks.count < 200_000 {
            for _ in 0..<100 { blocks.append(opaqueMalloc(64)!) }
          }
          for _ in 0..<1000 {
            let block = opaqueMalloc(64)!
            block.storeBytes(of: 7, as: Int.self)
            blocks.append(block)
          }
          let outside = outerRegion.liveBlocks - 1
          for block in blocks { opaqueFree(block) }
          return outside
        }
      }
      precondition(guarded.refusedProtections > 0 || servedOutside > 0, "the kernel never refused")
      precondition(servedOutside >= 1000, "served outside: \(servedOutside)")
      precondition(outer.liveBlocks == 0)
    }
  }
}
