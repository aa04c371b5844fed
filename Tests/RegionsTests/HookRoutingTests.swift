import Regions
import RegionsTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

final class Node {
  var value: Int
  var next: Node?
  init(_ value: Int, next: Node? = nil) {
    self.value = value
    self.next = next
  }
}

@inline(never) func makeList(_ count: Int) -> Node? {
  var head: Node? = nil
  for value in 0..<count { head = Node(value, next: head) }
  return head
}

@Suite("Hook mode: Swift allocations in a scope go to the region", .serialized)
struct HookRoutingTests {
  @Test func classInstancesArraysStringsLandInTheRegion() throws {
    try #require(Region.hookIsActive, "hook compiled out (sanitizer build)")
    // Warm up outside: the runtime instantiates metadata on first use and keeps it.
    _ = workload()
    var stats = Stats { Chunk(65536) { Mmap() } }
    let sum = Region.enter(&stats) { workload() }
    #expect(sum == 499_500 + 10_000 + 289)
    #expect(stats.allocations >= 1000 + 1 + 100)
    #expect(stats.deallocations == stats.allocations)
    #expect(stats.parent.liveChunks == 0)
  }

  func workload() -> Int {
      let list = makeList(1000)
      var array: [Int] = []
      for value in 0..<10_000 { array.append(value) }
      let text = (0..<100).map { String($0) }.joined(separator: ",")
      var total = 0
      var node = list
      while let current = node {
        total += current.value
        node = current.next
      }
      return total + array.count + text.count
  }

  @Test func cMallocAndRawPointersLandInTheRegion() throws {
    try #require(Region.hookIsActive)
    var stats = Stats { Chunk(65536) { Mmap() } }
    let (usable, address) = Region.enter(&stats) { () -> (Int, Int) in
      let block = malloc(100)!
      let usable = mallocUsableSize(block)
      free(block)
      let raw = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 64)
      let address = Int(bitPattern: raw)
      raw.deallocate()
      return (usable, address)
    }
    #expect(usable == 100)
    #expect(address % 64 == 0)
    #expect(stats.allocations == 2)
    #expect(stats.deallocations == 2)
  }

  @Test func escapeGoesToTheNextRegionOut() throws {
    try #require(Region.hookIsActive)
    var outer = Stats { Chunk(65536) { Mmap() } }
    var inner = Stats { Chunk(65536) { Mmap() } }
    var kept: [Node] = []
    Region.enter(&outer) {
      Region.enter(&inner) {
        let node = Region.escape { Node(1) }
        _ = makeList(10)
        Region.escape { kept.append(node) }
      }
      kept.removeAll()
    }
    #expect(inner.allocations == 10)
    #expect(outer.allocations >= 2)
  }
}
