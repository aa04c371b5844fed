import Glibc
import Regions
import RegionsTestSupport
import Testing

nonisolated(unsafe) var heldBlocks: [UnsafeMutableRawPointer?] = []

func standardErrorText(_ result: ExitTest.Result?) -> String {
  String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite("Reports speak in the program's pointers and sizes", .hookMode)
struct ProgramCoordinatesTests {
  @Test func aLeakReportGivesThePointerTheProgramHoldsAndTheSizeItAskedFor() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      var stack = Check(onLeak: .report) { Chunk(65536) { Mmap() } }
      // The array's storage outside the region (a literal could be a constant, copied on write).
      heldBlocks = Array(repeating: nil, count: Int.random(in: 3...3))
      Region.enter(&stack) {
        heldBlocks[0] = opaqueMalloc(100)
        heldBlocks[1] = opaqueMalloc(0)
        heldBlocks[2] = opaqueMalloc(32)
      }
      precondition(stack.leakedBlocks == 3, "leaked blocks: \(stack.leakedBlocks)")
      precondition(stack.leakedBytes == 132, "leaked bytes: \(stack.leakedBytes)")
    }
    let report = standardErrorText(result)
    #expect(report.contains("has 3 live blocks (132 bytes;"))
    #expect(report.contains(": 100 bytes, alignment 16"))
    #expect(report.contains(": 0 bytes, alignment 16"))
    #expect(report.contains(": 32 bytes, alignment 16"))
  }

  @Test func theReportedAddressIsThePointerItself() async {
    let result = await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
      heldBlocks = Array(repeating: nil, count: Int.random(in: 1...1))
      Region.enter(Check(onLeak: .report) { Chunk(65536) { Mmap() } }) {
        heldBlocks[0] = opaqueMalloc(100)
      }
      let address = "0x" + String(UInt(bitPattern: heldBlocks[0]!), radix: 16)
      _writeToStandardErrorForTheTest("held \(address)\n")
    }
    let report = standardErrorText(result)
    let held = report.split(separator: "\n").first { $0.hasPrefix("held ") }?.dropFirst(5) ?? "?"
    #expect(report.contains("    \(held): 100 bytes"))
  }

  @Test func guardNamesTheProgramsPointerSizeAndOffset() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Guard { SizeClasses { Mmap() } }) {
        let block = opaqueMalloc(10)!
        _writeToStandardErrorForTheTest("held \(block)\n")
        block.storeBytes(of: 0x41, toByteOffset: 10, as: UInt8.self)  // p[10]: one past the end
        opaqueFree(block)
      }
    }
    let report = standardErrorText(result)
    let held = report.split(separator: "\n").first { $0.hasPrefix("held ") }?.dropFirst(5) ?? "?"
    #expect(report.contains("a buffer overflow past the end of block \(held) (10 bytes"))
    #expect(report.contains("byte at offset 10 "))
  }

  @Test func exhaustionAndLimitAgreeOnTheBytesTheStackWasAskedFor() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Limit(bytes: 100) { Chunk(65536) { Mmap() } }) {
        _ = opaqueMalloc(96)
      }
    }
    let report = standardErrorText(result)
    #expect(
      report.contains(
        "could not allocate 96 bytes (alignment 16; the stack was asked for 112 bytes"))
    #expect(report.contains("the last asked for 112 bytes"))
  }
}

/// Writes straight to standard error (the child's output the test reads).
func _writeToStandardErrorForTheTest(_ text: String) {
  var text = text
  text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
