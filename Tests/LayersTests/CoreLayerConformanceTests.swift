import Layers
import RegionsTestSupport
import Testing

@Suite("Core layers pass the conformance checker")
struct CoreLayerConformanceTests {
  @Test func cardStack() {
    var stack = Stats { Chunk(4096) { Batch { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(allocations: $0.allocations, deallocations: $0.deallocations, bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.parent.parent.parent.liveBlocks == 0)
  }
}
