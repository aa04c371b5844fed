import Glibc
import Regions
import RegionsTestSupport
import Testing

final class Survivor {
  var values: (Int, Int, Int, Int) = (1, 2, 3, 4)
}

/// The process's resident set, from /proc/self/statm (pages × page size).
func residentBytes() -> Int {
  let descriptor = open("/proc/self/statm", O_RDONLY)
  guard descriptor >= 0 else { return 0 }
  defer { close(descriptor) }
  var buffer = [UInt8](repeating: 0, count: 128)
  let count = read(descriptor, &buffer, buffer.count)
  let fields = String(decoding: buffer.prefix(Swift.max(count, 0)), as: UTF8.self).split(
    separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite("Withheld memory is what the live blocks occupy", .hookMode)
struct WithheldMemoryTests {
  /// 1000 regions each leave 8 small objects alive after 400 KB of garbage: only the pages
  /// holding them stay resident (the scan that withholds a span gives the others back).
  @Test func regionsThatLeaveAFewObjectsBehindCostAFewKilobytesEach() async {
    await #expect(processExitsWith: .success) {
      var survivors: [Survivor] = []
      survivors.reserveCapacity(8 * 1100)
      var garbage: [UnsafeMutableRawPointer?] = Array(repeating: nil, count: 400_000 / 200)
      func oneRegion() {
        Region.enter(Chunk(65536) { Mmap() }) {
          for index in garbage.indices { garbage[index] = opaqueMalloc(184) }
          for index in garbage.indices { opaqueFree(garbage[index]) }
          for _ in 0..<8 { survivors.append(Survivor()) }
        }
      }
      for _ in 0..<100 { oneRegion() }  // warm-up: the runtime's own tables and records
      Region.releaseCachedPages()
      let before = residentBytes()
      let withheldBefore = Region.memory.withheldBytes
      for _ in 0..<1000 { oneRegion() }
      Region.releaseCachedPages()
      let perRegion = (residentBytes() - before) / 1000
      let memory = Region.memory
      precondition(perRegion <= 16 << 10, "resident per region: \(perRegion) bytes")
      precondition(memory.withheldSpans >= 1000, "withheld spans: \(memory.withheldSpans)")
      precondition(memory.withheldBytes - withheldBefore >= 1000 * 65536)
      precondition(
        memory.withheldResidentBytes < memory.withheldBytes / 8,
        "resident \(memory.withheldResidentBytes) of \(memory.withheldBytes) withheld")
      precondition(survivors.allSatisfy { $0.values == (1, 2, 3, 4) })
      survivors.removeAll()
      precondition(Region.memory.withheldSpans == 0, "left: \(Region.memory.withheldSpans)")
    }
  }
}
