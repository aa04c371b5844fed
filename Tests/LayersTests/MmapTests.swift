import Layers
import Testing

@Suite("Mmap: pages from the OS")
struct MmapTests {
  @Test func roundsToWholePages() throws {
    var mmap = Mmap()
    let one = try mmap.requireBlock(1, alignment: 1)
    #expect(mmap.mappedBytes == pageSize)
    let more = try mmap.requireBlock(pageSize + 1, alignment: 8)
    #expect(mmap.mappedBytes == 3 * pageSize)
    let zero = try mmap.requireBlock(0, alignment: 1)
    #expect(mmap.mappedBytes == 4 * pageSize, "zero bytes map one page")
    #expect(mmap.mappings == 3)
    // The whole rounded size is usable, and zeroed.
    #expect(more.load(fromByteOffset: 2 * pageSize - 8, as: UInt64.self) == 0)
    more.storeBytes(of: 0xFFFF, toByteOffset: 2 * pageSize - 8, as: UInt64.self)
    mmap.deallocate(one, byteCount: 1, alignment: 1)
    mmap.deallocate(more, byteCount: pageSize + 1, alignment: 8)
    mmap.deallocate(zero, byteCount: 0, alignment: 1)
    #expect(mmap.mappedBytes == 0)
    #expect(mmap.mappings == 3, "mappings counts every mapping made")
  }

  @Test(arguments: 0...20)
  func honorsAlignment(exponent: Int) throws {
    let alignment = 1 << exponent
    var mmap = Mmap()
    let block = try mmap.requireBlock(3 * pageSize, alignment: alignment)
    #expect(Int(bitPattern: block) % alignment == 0)
    block.initializeMemory(as: UInt8.self, repeating: 7, count: 3 * pageSize)
    #expect(mmap.mappedBytes == 3 * pageSize, "the excess of an over-aligned mapping is trimmed")
    mmap.deallocate(block, byteCount: 3 * pageSize, alignment: alignment)
    #expect(mmap.mappedBytes == 0)
  }

  @Test func reportShowsMappedBytes() throws {
    var mmap = Mmap()
    let block = try mmap.requireBlock(10, alignment: 8)
    #expect(mmap.report == "Mmap: \(pageSize) bytes mapped, 1 mappings so far")
    mmap.deallocate(block, byteCount: 10, alignment: 8)
  }

  // The forced failure is process-wide, so it runs in a child process where no other test
  // maps pages at the same time.
  @Test func returnsNilWhenTheOSRefuses() async {
    await #expect(processExitsWith: .success) {
      var mmap = Mmap()
      _failNextPageMappings(1)
      #expect(mmap.allocate(byteCount: 4096, alignment: 8) == nil)
      #expect(mmap.mappedBytes == 0)
      #expect(mmap.mappings == 0)
      let block = mmap.allocate(byteCount: 4096, alignment: 8)
      #expect(block != nil, "only the forced mapping fails")
      _failNextPageMappings(1)
      #expect(mmap.allocate(byteCount: 4096, alignment: 1 << 20) == nil)
    }
  }

  @Test func returnsNilForAnImpossibleMapping() throws {
    var mmap = Mmap()
    // More address space than any machine has, but no overflow.
    #expect(mmap.allocate(byteCount: 1 << 60, alignment: 8) == nil)
    #expect(mmap.allocate(byteCount: 1 << 40, alignment: 1 << 62) == nil)
    #expect(mmap.mappedBytes == 0)
  }
}
