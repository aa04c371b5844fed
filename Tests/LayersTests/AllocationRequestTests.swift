import Layers
import Testing

/// Bad requests stop the program with a clear message, in every layer that validates them.
@Suite("Bad requests stop with a message")
struct AllocationRequestTests {
  static let layers = ["Mmap", "ProcessAllocator", "Chunk", "Batch", "Check", "Stats", "Bypass"]

  /// Allocates through the named layer (over a source), in the child process of an exit test.
  static func allocate(_ layer: String, byteCount: Int, alignment: Int) {
    switch layer {
    case "Mmap": request(Mmap(), byteCount, alignment)
    case "ProcessAllocator": request(ProcessAllocator(), byteCount, alignment)
    case "Chunk": request(Chunk(4096) { Mmap() }, byteCount, alignment)
    case "Batch": request(Batch { Mmap() }, byteCount, alignment)
    case "Check": request(Check { Mmap() }, byteCount, alignment)
    case "Stats": request(Stats { Mmap() }, byteCount, alignment)
    case "Bypass": request(Bypass { ProcessAllocator() }, byteCount, alignment)
    default: fatalError("unknown layer \(layer)")
    }
  }

  static func request<L: Layer>(_ layer: L, _ byteCount: Int, _ alignment: Int) {
    var layer = layer
    _ = layer.allocate(byteCount: byteCount, alignment: alignment)
  }

  @Test(arguments: layers)
  func negativeByteCount(layer: String) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [layer] in
      AllocationRequestTests.allocate(layer, byteCount: -1, alignment: 8)
    }
    #expect(standardError(result).contains("Regions: byteCount must not be negative (got -1)"))
  }

  @Test(arguments: layers)
  func alignmentZero(layer: String) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [layer] in
      AllocationRequestTests.allocate(layer, byteCount: 8, alignment: 0)
    }
    #expect(
      standardError(result).contains("Regions: alignment must be a positive power of two (got 0)"))
  }

  @Test(arguments: layers)
  func alignmentNotAPowerOfTwo(layer: String) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [layer] in
      AllocationRequestTests.allocate(layer, byteCount: 8, alignment: 3)
    }
    #expect(
      standardError(result).contains("Regions: alignment must be a positive power of two (got 3)"))
  }

  @Test func negativeAlignmentStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      AllocationRequestTests.allocate("Chunk", byteCount: 8, alignment: Int.min)
    }
    #expect(standardError(result).contains("alignment must be a positive power of two"))
  }

  @Test func overflowingRequestInChunkStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var chunk = Chunk(4096) { Mmap() }
      _ = chunk.allocate(byteCount: Int.max - 10, alignment: 4096)
    }
    #expect(
      standardError(result).contains(
        "Regions: size arithmetic overflows (4096 + \(Int.max - 10)): the request is too large"))
  }

  @Test func overflowingRequestInMmapStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var mmap = Mmap()
      _ = mmap.allocate(byteCount: Int.max - 10, alignment: 1)
    }
    #expect(standardError(result).contains("Regions: size arithmetic overflows"))
  }

  @Test func roundUpAndAddComputeExactly() {
    #expect(AllocationRequest.roundUp(0, to: 16) == 0)
    #expect(AllocationRequest.roundUp(1, to: 16) == 16)
    #expect(AllocationRequest.roundUp(4096, to: 4096) == 4096)
    #expect(AllocationRequest.roundUp(Int.max - 15, to: 16) == Int.max - 15)
    #expect(AllocationRequest.add(Int.max - 1, 1) == Int.max)
  }
}
