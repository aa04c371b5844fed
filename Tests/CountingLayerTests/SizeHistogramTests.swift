import Regions
import RegionsTestSupport
import Testing

@testable import countinglayer

@Suite("SizeHistogram, the third-party layer example")
struct SizeHistogramTests {
  typealias Histogram = SizeHistogram<ProcessAllocator>

  @Test func bucketsArePowersOfTwo() {
    #expect(Histogram.bucket(byteCount: 0) == 0)
    #expect(Histogram.bucket(byteCount: 16) == 0)
    #expect(Histogram.bucket(byteCount: 17) == 1)
    #expect(Histogram.bucket(byteCount: 32) == 1)
    #expect(Histogram.bucket(byteCount: 33) == 2)
    #expect(Histogram.bucket(byteCount: 16 * 1024) == 10)
    #expect(Histogram.bucket(byteCount: 16 * 1024 + 1) == 11)
    #expect(Histogram.bucket(byteCount: Int.max) == 11)
    #expect(Histogram.label(ofBucket: 0) == "≤ 16 B")
    #expect(Histogram.label(ofBucket: 8) == "≤ 4 KiB")
    #expect(Histogram.label(ofBucket: 11) == "> 16 KiB")
  }

  @Test func passesTheConformanceChecker() {
    var stack = Stats { SizeHistogram { Chunk(4096) { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    // The histogram saw every request the checker made, in some bucket.
    let histogram = stack.parent
    let buckets = 0..<Histogram.bucketCount
    #expect(
      buckets.map(histogram.allocations(inBucket:)).reduce(0, +) == outcome.counts.allocations)
    #expect(
      buckets.map(histogram.deallocations(inBucket:)).reduce(0, +) == outcome.counts.deallocations)
    #expect(histogram.allocations(inBucket: Histogram.bucketCount - 1) > 0)
  }

  @Test func passesNilUpWithoutCounting() {
    // No OS maps an exabyte: Mmap returns nil, and the histogram passes it up.
    var stack = SizeHistogram { Mmap() }
    #expect(stack.allocate(byteCount: 1 << 60, alignment: 16) == nil)
    #expect(stack.allocations(inBucket: Histogram.bucketCount - 1) == 0)
  }

  @Test func negativeByteCountStops() async {
    await #expect(processExitsWith: .failure) {
      var stack = SizeHistogram { ProcessAllocator() }
      _ = stack.allocate(byteCount: -1, alignment: 16)
    }
  }
}
