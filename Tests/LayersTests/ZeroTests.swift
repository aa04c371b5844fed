import Layers
import RegionsTestSupport
import Testing

@Suite("Zero")
struct ZeroTests {
  @Test func passesTheConformanceChecker() {
    var stack = Stats { Zero { Chunk(65536) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
  }

  static func isZero(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Bool {
    UnsafeRawBufferPointer(start: pointer, count: count).allSatisfy { $0 == 0 }
  }

  /// Memory the parent reuses comes back zeroed: Chunk hands the most recently freed block
  /// out again, and the process allocator reuses freed blocks.
  @Test func reusedMemoryComesBackZeroed() {
    var chunk = Zero { Chunk(65536) { Mmap() } }
    let first = chunk.allocate(byteCount: 512, alignment: 16)!
    first.initializeMemory(as: UInt8.self, repeating: 0xAB, count: 512)
    chunk.deallocate(first, byteCount: 512, alignment: 16)
    let again = chunk.allocate(byteCount: 512, alignment: 16)!
    #expect(again == first)
    #expect(Self.isZero(again, 512))
    chunk.reset()

    var system = Zero { ProcessAllocator() }
    for round in 0..<1000 {
      let size = 1 + round % 700
      let pointer = system.allocate(byteCount: size, alignment: 8)!
      #expect(Self.isZero(pointer, size))
      pointer.initializeMemory(as: UInt8.self, repeating: 0xFF, count: size)
      system.deallocate(pointer, byteCount: size, alignment: 8)
    }
  }

  /// Over a parent that returns zeroed pages, Zero does nothing.
  @Test func skipsClearingWhenTheParentZeroes() {
    #expect(!Zero<Mmap>.clearsBlocks)
    #expect(!Zero<Align<Mmap>>.clearsBlocks)
    #expect(Zero<Chunk<Mmap>>.clearsBlocks)
    #expect(Zero<ProcessAllocator>.clearsBlocks)
    #expect(Zero<ProcessAllocator>.returnsZeroedMemory)
    var pages = Zero { Mmap() }
    let pointer = pages.allocate(byteCount: 10_000, alignment: 64)!
    #expect(Self.isZero(pointer, 10_000))
    pages.deallocate(pointer, byteCount: 10_000, alignment: 64)
  }
}
