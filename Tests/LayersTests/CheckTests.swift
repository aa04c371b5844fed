import Layers
import Testing

@Suite("Check: the set of live blocks, and stops on misuse")
struct CheckTests {
  @Test func tracksLiveBlocksAndBytes() throws {
    var check = Check { ProcessAllocator() }
    let a = try check.requireBlock(100, alignment: 8)
    let b = try check.requireBlock(0, alignment: 64)
    let c = try check.requireBlock(5000, alignment: 4096)
    #expect(check.liveBlocks == 3)
    #expect(check.liveBytes == 5100)
    check.deallocate(b, byteCount: 0, alignment: 64)
    check.deallocate(a, byteCount: 100, alignment: 8)
    #expect(check.liveBlocks == 1)
    #expect(check.liveBytes == 5000)
    check.deallocate(c, byteCount: 5000, alignment: 4096)
    #expect(check.liveBlocks == 0)
    #expect(check.liveBytes == 0)
    check.reset()
    #expect(check.leakedBlocks == 0)
  }

  @Test func tableComesFromTheParentAndGoesBackAtReset() throws {
    var check = Check(siteFrames: 0) { Stats { ProcessAllocator() } }
    let block = try check.requireBlock(10, alignment: 8)
    // The block and the table.
    #expect(check.parent.liveBlocks == 2)
    check.deallocate(block, byteCount: 10, alignment: 8)
    check.reset()
    #expect(check.parent.liveBlocks == 0)

    // With sites: their tables (records, their index, the blocks' sites) come from it too.
    var sited = Check { Stats { ProcessAllocator() } }
    let sitedBlock = try sited.requireBlock(10, alignment: 8)
    #expect(sited.parent.liveBlocks == 5)
    sited.deallocate(sitedBlock, byteCount: 10, alignment: 8)
    sited.reset()
    #expect(sited.parent.liveBlocks == 0)
  }

  /// A leak report names, per site, the function that allocated the leaked blocks.
  @Test func leakReportNamesTheAllocatingFunction() throws {
    var check = Check(onLeak: .report, siteFrames: 3) { Mmap() }
    let leaked = allocateForTheProfile(&check, count: 3, byteCount: 48)
    let report = check.leakReport()
    #expect(report.contains("by allocation site:"))
    #expect(report.contains("3 blocks (144 bytes: 3 × block) allocated at"))
    #expect(report.contains("allocateForTheProfile"))
    for block in leaked { check.deallocate(block, byteCount: 48, alignment: 16) }
    check.reset()
    #expect(check.leakedBlocks == 0)
  }

  @Test func reportModeReportsLeaksAndGoesOn() throws {
    var check = Check(onLeak: .report) { Stats { Mmap() } }
    _ = try check.requireBlock(100, alignment: 8)
    _ = try check.requireBlock(28, alignment: 16)
    let report = check.leakReport()
    #expect(report.contains("has 2 live blocks (128 bytes) at reset"))
    #expect(report.contains(": 100 bytes, alignment 8"))
    #expect(report.contains(": 28 bytes, alignment 16"))
    check.reset()
    #expect(check.leakedBlocks == 2)
    #expect(check.leakedBytes == 128)
    #expect(check.liveBlocks == 0)
    #expect(check.liveBytes == 0)
    // It goes on: the layer serves again, and the counts add up over resets.
    _ = try check.requireBlock(1, alignment: 1)
    check.reset()
    #expect(check.leakedBlocks == 3)
    #expect(check.leakedBytes == 129)
  }

  @Test func reportModeWritesTheReportToStandardError() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      var check = Check(onLeak: .report) { ProcessAllocator() }
      _ = check.allocate(byteCount: 48, alignment: 16)
      check.reset()
    }
    let message = standardError(result)
    #expect(message.contains("Check<ProcessAllocator> has 1 live blocks (48 bytes) at reset"))
    #expect(message.contains(": 48 bytes, alignment 16"))
  }

  @Test func leakReportListsTheFirstFew() throws {
    var check = Check(onLeak: .report) { ProcessAllocator() }
    for size in 1...12 { _ = try check.requireBlock(size, alignment: 1) }
    let report = check.leakReport(listing: 3)
    // The headline, one summary line per kind of block, "first blocks:", three blocks, "more";
    // then the sites (one: the loop above).
    let parts = report.components(separatedBy: "\n  by allocation site:\n")
    #expect(parts.count == 2)
    #expect(parts[0].split(separator: "\n").count == 7)
    #expect(parts[0].contains("  12 × block (78 bytes)"))
    #expect(parts[0].hasSuffix("… and 9 more"))
    #expect(parts.last?.hasPrefix("  12 blocks (78 bytes: 12 × block) allocated at\n") == true)
    check.reset()
  }

  @Test func unknownPointerStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var check = Check { ProcessAllocator() }
      check.deallocate(
        UnsafeMutableRawPointer(bitPattern: 0xdead0)!, byteCount: 16, alignment: 8)
    }
    let message = standardError(result)
    #expect(message.contains("Check<ProcessAllocator> was asked to deallocate 0x00000000000dead0"))
    #expect(message.contains("(16 bytes, alignment 8), which is not live"))
  }

  @Test func doubleFreeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var check = Check { Chunk(4096) { Mmap() } }
      let block = check.allocate(byteCount: 24, alignment: 8)!
      check.deallocate(block, byteCount: 24, alignment: 8)
      check.deallocate(block, byteCount: 24, alignment: 8)
    }
    let message = standardError(result)
    #expect(message.contains("Check<Chunk<Mmap>> was asked to deallocate 0x"))
    #expect(message.contains("(24 bytes, alignment 8), which is not live: a double free"))
  }

  @Test func byteCountMismatchStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var check = Check { ProcessAllocator() }
      let block = check.allocate(byteCount: 100, alignment: 8)!
      check.deallocate(block, byteCount: 99, alignment: 8)
    }
    let message = standardError(result)
    #expect(message.contains("Check<ProcessAllocator> was asked to deallocate 0x"))
    #expect(
      message.contains(
        "with 99 bytes, alignment 8, but it was allocated with 100 bytes, alignment 8"))
  }

  @Test func alignmentMismatchStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var check = Check { ProcessAllocator() }
      let block = check.allocate(byteCount: 100, alignment: 64)!
      check.deallocate(block, byteCount: 100, alignment: 16)
    }
    #expect(
      standardError(result).contains(
        "with 100 bytes, alignment 16, but it was allocated with 100 bytes, alignment 64"))
  }

  @Test func resetWithLiveBlocksStopsByDefault() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var check = Check { ProcessAllocator() }
      _ = check.allocate(byteCount: 4000, alignment: 4096)
      _ = check.allocate(byteCount: 96, alignment: 32)
      check.reset()
    }
    let message = standardError(result)
    #expect(message.contains("Check<ProcessAllocator> has 2 live blocks (4096 bytes) at reset"))
    #expect(message.contains(": 4000 bytes, alignment 4096"))
    #expect(message.contains(": 96 bytes, alignment 32"))
  }
}
