import Foundation
import Regions
import RegionsTestSupport
import Testing

/// Two words of fields: 16 bytes of object header, 16 of fields.
final class MeasuredPair {
  var first: Int
  var second: Int
  init(_ first: Int, _ second: Int) {
    self.first = first
    self.second = second
  }
}

// Each test runs its body once before measuring it, as allocation-counting tests do: the first
// use of a generic type can make the Swift runtime allocate its metadata inside libswiftCore's
// own code, which the region then serves (see Docs/Safety.md, "Not guaranteed").
@Suite("Region.measure: allocation counts for tests", .serialized, .hookMode)
struct MeasureTests {
  /// Exact counts for a body with a known number of allocations and frees.
  @Test func countsAreExact() {
    func body() -> [UnsafeMutableRawPointer] {
      let blocks = (0..<3).map { _ in opaqueMalloc(100)! }
      opaqueFree(blocks[0])
      return Array(blocks.dropFirst())
    }
    for block in body() { opaqueFree(block) }
    let measured = Region.measure(body)
    // The three blocks and the array holding them (returned: still live), and `dropFirst`'s
    // copy of it.
    #expect(measured.allocations == 5)
    #expect(measured.deallocations == 2)
    #expect(measured.liveBlocks == 3)
    // 300 bytes of blocks, two arrays of pointers (3 and 2 elements, 32-byte headers).
    #expect(measured.bytesAllocated == 300 + (32 + 24) + (32 + 16))
    #expect(measured.peakLiveBytes == 300 + (32 + 24))  // before the first free
    for block in measured.value { opaqueFree(block) }
  }

  /// One object: one allocation of its instance size.
  @Test func oneObjectIsOneAllocationOfItsSize() {
    func body() -> MeasuredPair { MeasuredPair(Int.random(in: 1...1), 2) }
    keep(body())
    let measured = Region.measure(body)
    #expect(measured.allocations == 1)
    #expect(measured.bytesAllocated == 32)
    #expect(measured.peakLiveBytes == 32)
    #expect(measured.liveBlocks == 1)
    #expect(measured.value.first + measured.value.second == 3)
  }

  /// What the body returns stays valid after later regions have reused memory.
  @Test func objectsReturnedFromTheBodyStayUsable() {
    func body() -> [MeasuredPair] { (0..<1000).map { MeasuredPair($0, $0 * 2) } }
    keep(body())
    let measured = Region.measure(body)
    #expect(measured.allocations == 1001)
    for _ in 0..<10 {
      Region.enter(Chunk(65536) { Mmap() }) {
        keep((0..<1000).map { MeasuredPair(-$0, -1) })
      }
    }
    #expect(measured.value.enumerated().allSatisfy { $1.first == $0 && $1.second == 2 * $0 })
  }

  /// Inside a region the body's memory comes from that region's pages, and the counts are the
  /// same as outside.
  @Test func nestedInARegionAndOutsideTheCountsAgree() {
    func body() -> Int { (0..<100).map { MeasuredPair($0, 0) }.count }
    keep(body())
    let outside = Region.measure(body)
    var enclosing = Stats { Chunk(1 << 20) { Mmap() } }
    let inside = Region.enter(&enclosing) { Region.measure(body) }
    #expect(outside.allocations == 101 && inside.allocations == 101)
    #expect(outside.bytesAllocated == inside.bytesAllocated)
    #expect(outside.peakLiveBytes == inside.peakLiveBytes)
    #expect(outside.liveBlocks == 0 && inside.liveBlocks == 0)
    #expect(enclosing.allocations >= 1)  // the measured body's pages
  }

  /// The asynchronous form follows the body across an await and into a child task.
  @Test func theAsyncFormCountsAcrossAwaitsAndChildTasks() async {
    let measured = await Region.measure { () async -> Int in
      let before = MeasuredPair(1, 1)
      await Task.yield()
      let child = await Task { MeasuredPair(2, 2).first }.value
      return before.first + child
    }
    #expect(measured.value == 3)
    #expect(measured.allocations >= 2)
    #expect(measured.bytesAllocated >= 64)
  }
}

@Suite("Region.reportJSON", .hookMode)
struct RegionReportJSONTests {
  @Test func anOpenRegionReportsItsLayersAsJSON() throws {
    var json = ""
    Region.enter(Stats { Chunk(65536) { Mmap() } }) {
      keep(MeasuredPair(1, 2))
      json = Region.current!.reportJSON
    }
    let objects = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
    #expect(objects?.map { $0["layer"] as? String } == ["Stats", "Chunk", "Mmap"])
    #expect(objects?.first?["allocations"] as? Int ?? 0 >= 1)
  }
}
