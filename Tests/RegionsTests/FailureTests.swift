import Regions
import RegionsTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A source layer that refuses everything: a region over it is exhausted at once.
struct Refuse: Layer {
  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? { nil }
  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    fatalError("Refuse never hands out blocks")
  }
  mutating func reset() {}
}

@Suite("Failures stop with a message, or fall back when asked", .hookMode)
struct FailureTests {
  @Test func anExhaustedRegionStopsNamingTheStackTheRequestAndTheLayers() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Stats { Refuse() }
      Region.enter(&stack) { _ = opaqueMalloc(100) }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("Stats<Refuse>"))
    #expect(message.contains("could not allocate 100 bytes (alignment 16;"))
    #expect(message.contains("Stats: 0 allocations"))
    #expect(message.contains("onExhaustion: .useOuterRegion"))
    #expect(!message.contains("Could not allocate memory"))
  }

  @Test func anExhaustedRegionCanFallBackToTheNextRegionOut() throws {
    var outer = Stats { Chunk(65536) { Mmap() } }
    var inner = Stats { Refuse() }
    let value = Region.enter(&outer) { () -> Int in
      Region.enter(&inner, onExhaustion: .useOuterRegion) {
        let object = Sample(42)
        keep(object)
        return object.isIntact ? object.id : -1
      }
    }
    #expect(value == 42)
    #expect(inner.allocations == 0)
    #expect(inner.failedAllocations >= 1)
    #expect(outer.allocations >= 1)
  }

  @Test func aDoubleFreeOfARegionBlockStops() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Chunk(4096) { Mmap() }) {
        let block = opaqueMalloc(32)
        opaqueFree(block)
        opaqueFree(block)
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("double free"))
  }

  @Test func freeingAnInteriorPointerOfARegionBlockStops() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Chunk(4096) { Mmap() }) {
        let block = opaqueMalloc(64)!
        opaqueFree(block + 24)
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("not the start of a live block"))
  }

  @Test func aDoubleFreeAfterTheRegionClosedStops() async throws {
    await #expect(processExitsWith: .failure) {
      var kept: UnsafeMutableRawPointer? = nil
      Region.enter(Chunk(4096) { Mmap() }) {
        kept = opaqueMalloc(32)
        _ = opaqueMalloc(32)  // keeps the span withheld after the first block is freed
      }
      opaqueFree(kept)
      opaqueFree(kept)
    }
  }
}
