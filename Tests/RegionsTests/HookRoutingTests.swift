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

@Suite("Hook mode: Swift allocations in a scope go to the region", .serialized, .hookMode)
struct HookRoutingTests {
  @Test func classInstancesArraysStringsLandInTheRegion() throws {
    // Warm up outside: the runtime instantiates metadata on first use and keeps it.
    _ = workload()
    var stats = Stats { Chunk(65536) { Mmap() } }
    let sum = Region.enter(&stats) { workload() }
    #expect(sum == 499_500 + 10_000 + 289)
    // 1000 objects, the array's buffers as it grows, the joined string's storage. (The
    // numbers' own strings are small, stored inline; scratch buffers libswiftCore mallocs
    // for itself go to the ground.)
    #expect(stats.allocations >= 1000 + 10 + 1)
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

@Suite("Hook mode: more kinds of Swift allocation", .serialized, .hookMode)
struct HookKindsTests {
  @inline(never) func dictionaryAndClosures() -> Int {
    var table: [String: [Int]] = [:]
    for index in 0..<200 { table["key \(index)"] = [index, index * 2] }
    var closures: [() -> Int] = []
    for index in 0..<50 {
      let captured = Payload(index % 3 + 1)
      closures.append { captured.values.count + index }
    }
    return table.count + closures.reduce(0) { $0 + $1() }
  }

  @Test func dictionariesAndClosureContextsLandInTheRegion() throws {
    _ = dictionaryAndClosures()
    var stats = Stats { Chunk(65536) { Mmap() } }
    let result = Region.enter(&stats) { dictionaryAndClosures() }
    #expect(result == 200 + (0..<50).reduce(0) { $0 + $1 % 3 + 1 + $1 })
    // 50 closure contexts, 50 payload objects and their arrays, the dictionary's storage.
    #expect(stats.allocations >= 150)
    #expect(stats.liveBlocks == 0)
  }

  @Test func reallocKeepsABlockWithItsOwnerAndAlignmentIsHonored() throws {
    var outer = Stats { Chunk(1 << 20) { Mmap() } }
    var inner = Stats { Chunk(1 << 20) { Mmap() } }
    let (grownSize, alignedOK, innerGrowths) = Region.enter(&outer) { () -> (Int, Bool, Int) in
      let block = malloc(16)!
      block.storeBytes(of: 0x1234, as: Int.self)
      let (grown, innerCount) = Region.enter(&inner) { () -> (UnsafeMutableRawPointer, Int) in
        (realloc(block, 4096)!, 0)
      }
      let keptValue = grown.load(as: Int.self) == 0x1234
      var aligned: UnsafeMutableRawPointer? = nil
      posix_memalign(&aligned, 65536, 100)
      let alignedOK = Int(bitPattern: aligned!) % 65536 == 0 && keptValue
      free(aligned)
      let size = mallocUsableSize(grown)
      free(grown)
      return (size, alignedOK, innerCount)
    }
    #expect(grownSize == 4096)
    #expect(alignedOK)
    #expect(innerGrowths == 0)
    #expect(inner.allocations == 0)  // the realloc went to the block's owner, the outer region
    #expect(outer.liveBlocks == 0)
  }

  @Test func aLayerWithoutAnInlinePathSeesEveryBlockUnderOneWithIt() throws {
    // The outer Stats and the Chunk have inline paths; the counting layer between them has
    // the defaults, so the region must fall back to the full path for every block.
    _ = makeList(10)
    var stack = Stats { CountingOnly { Stats { Chunk(65536) { Mmap() } } } }
    let sum = Region.enter(&stack) { () -> Int in
      var node = makeList(1000)
      var sum = 0
      while let current = node {
        sum += current.value
        node = current.next
      }
      return sum
    }
    #expect(sum == 499_500)
    #expect(stack.allocations >= 1000)
    #expect(stack.parent.allocations == stack.allocations)
    #expect(stack.parent.deallocations == stack.deallocations)
    #expect(stack.parent.parent.allocations == stack.allocations)
    #expect(stack.deallocations == stack.allocations)
  }
}
