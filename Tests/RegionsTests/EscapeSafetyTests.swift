import Regions
import RegionsTestSupport
import Testing

final class Sample {
  let id: Int
  var words: (Int, Int, Int, Int)
  init(_ id: Int) {
    self.id = id
    words = (id, ~id, id &* 31, id ^ 0x5A5A)
  }
  var isIntact: Bool { words == (id, ~id, id &* 31, id ^ 0x5A5A) }
}

@Suite("Objects that outlive their region stay valid", .serialized, .hookMode)
struct EscapeSafetyTests {
  @Test func objectsReturnedWithoutEscapeSurviveLaterRegions() throws {
    // Instantiate the generic metadata these closures need outside any region: metadata the
    // Swift runtime first instantiates inside a region lives for the whole process, and
    // keeps its span withheld for good (safe, but it would show in the counts below).
    _ = (0..<10).map { Sample($0) }
    var kept: [[Sample]] = []
    kept.reserveCapacity(10_000)
    var regions: [Region] = []
    regions.reserveCapacity(10_000)
    var stack = Chunk(4096) { Mmap() }
    for region in 0..<10_000 {
      // Returned without `escape`: the objects and the array live in the region's pages.
      let (samples, handle) = Region.enter(&stack) {
        ((0..<10).map { Sample(region * 10 + $0) }, Region.current!)
      }
      kept.append(samples)
      regions.append(handle)
    }
    // Every region's chunk is withheld: nothing reuses or unmaps it while its objects live.
    #expect(regions.allSatisfy { !$0.isOpen && $0.withheldSpans == 1 && $0.withheldBytes == 4096 })
    // Later regions allocate and scribble over everything they are given.
    for _ in 0..<200 {
      Region.enter(&stack) {
        let scratch = (0..<50).map { _ in Sample(-1) }
        for sample in scratch { sample.words = (-1, -1, -1, -1) }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0xEE, count: 2048)
        raw.deallocate()
      }
    }
    var intact = 0
    for (region, samples) in kept.enumerated() {
      for (index, sample) in samples.enumerated()
      where sample.id == region * 10 + index && sample.isIntact {
        intact += 1
      }
    }
    #expect(intact == 100_000)
    kept.removeAll()
    // The last block in each withheld span is gone: every span is released.
    #expect(regions.allSatisfy { $0.withheldSpans == 0 && $0.liveSpans == 0 })
  }

  @Test func aRegionWithNothingLiveGivesEverythingBack() throws {
    _ = (0..<1000).map { Sample($0) }.count
    var stack = Stats { Chunk(1 << 16) { Mmap() } }
    let region = Region.enter(&stack) { () -> Region in
      _ = (0..<1000).map { Sample($0) }.count
      return Region.current!
    }
    #expect(region.liveSpans == 0)
    #expect(region.withheldSpans == 0)
    #expect(stack.allocations >= 1001)
  }

  @Test func onlyTheSpanHoldingALiveBlockIsWithheld() throws {
    var stack = Chunk(1 << 16) { Mmap() }
    let (kept, region) = Region.enter(&stack) { () -> (UnsafeMutableRawPointer, Region) in
      // A first chunk full of words that look like live block headers (the scan's pattern:
      // a size, then the live tag with 16-byte alignment and offset), freed before the close.
      let lookalikes = UnsafeMutableRawPointer.allocate(byteCount: 40 << 10, alignment: 16)
      let words = lookalikes.bindMemory(to: UInt.self, capacity: (40 << 10) / 8)
      for index in stride(from: 0, to: (40 << 10) / 8, by: 2) {
        words[index] = 16
        words[index + 1] = 0x5247_0004_0000_0010
      }
      // The next block does not fit in the first chunk: it lies in a second one, and stays.
      let kept = UnsafeMutableRawPointer.allocate(byteCount: 40 << 10, alignment: 16)
      lookalikes.deallocate()
      return (kept, Region.current!)
    }
    // The first chunk's span counts no live block: it goes unread, look-alikes and all.
    #expect(region.withheldSpans == 1)
    #expect(region.liveBlocks == 1)
    kept.deallocate()
    #expect(region.withheldSpans == 0 && region.liveSpans == 0)
  }
}
