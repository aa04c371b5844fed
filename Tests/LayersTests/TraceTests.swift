import Foundation
import Layers
import RegionsTestSupport
import Testing

@Suite("Trace")
struct TraceTests {
  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory()
      + "regions-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).trace"
  }

  static func hex(_ pointer: UnsafeMutableRawPointer) -> String {
    "0x" + String(UInt(bitPattern: pointer), radix: 16)
  }

  /// A known sequence gives exactly the documented lines.
  @Test func writesTheDocumentedFormat() throws {
    let path = Self.temporaryPath("format")
    defer { try? FileManager.default.removeItem(atPath: path) }
    var stack = Trace(to: path) { Limit(bytes: 1000) { ProcessAllocator() } }
    let first = stack.allocate(byteCount: 100, alignment: 8)!
    let second = stack.allocate(byteCount: 0, alignment: 4096)!
    #expect(stack.allocate(byteCount: 5000, alignment: 16) == nil)
    stack.deallocate(first, byteCount: 100, alignment: 8)
    stack.deallocate(second, byteCount: 0, alignment: 4096)
    stack.reset()

    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(
      text == """
        # regions-trace 1
        a 100 8 \(Self.hex(first))
        a 0 4096 \(Self.hex(second))
        a 5000 16 0
        d \(Self.hex(first)) 100 8
        d \(Self.hex(second)) 0 4096
        r

        """)
    let records = try TraceRecord.parse(text)
    #expect(records.count == 6)
    #expect(records[2] == .allocate(byteCount: 5000, alignment: 16, address: 0))
    #expect(records.map(\.line) == text.split(separator: "\n").dropFirst().map(String.init))
  }

  /// 200,000 checked operations through Trace; the file then parses into exactly what the
  /// checker did, and replays on another stack to the same counts.
  @Test func passesTheConformanceCheckerAndReplays() throws {
    let path = Self.temporaryPath("conformance")
    defer { try? FileManager.default.removeItem(atPath: path) }
    var stack = Stats { Trace(to: path) { Chunk(65536) { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    stack.parent.flush()

    let records = try TraceRecord.parse(String(contentsOfFile: path, encoding: .utf8))
    var allocations = 0
    var deallocations = 0
    var resets = 0
    for record in records {
      switch record {
      case .allocate: allocations += 1
      case .deallocate: deallocations += 1
      case .reset: resets += 1
      }
    }
    #expect(allocations == outcome.counts.allocations)
    #expect(deallocations == outcome.counts.deallocations)
    #expect(resets == outcome.resets)

    var other = Stats { Chunk(1 << 20) { Mmap() } }
    let replay = TraceReplay.run(records, on: &other)
    #expect(replay.allocations == allocations && replay.failedAllocations == 0)
    #expect(replay.resets == resets)
    #expect(other.allocations == allocations)
    #expect(other.bytesAllocated == outcome.counts.bytesAllocated)
  }

  /// A tiny hand-written trace replays with the counts and peak it implies.
  @Test func replaysATinyTrace() throws {
    let trace = """
      # regions-trace 1
      a 100 8 0x1000
      a 50 16 0x2000
      d 0x1000 100 8
      a 30 8 0x1000
      a 2000 8 0
      d 0xdead 10 8
      r
      a 10 1 0x3000
      """
    let records = try TraceRecord.parse(trace)
    var stack = Stats { Limit(bytes: 1000) { Check { ProcessAllocator() } } }
    let outcome = TraceReplay.run(records, on: &stack)
    #expect(outcome.allocations == 4 && outcome.failedAllocations == 1)
    #expect(outcome.deallocations == 1 && outcome.unmatchedDeallocations == 1)
    // 0x2000 and the second 0x1000 at the reset, 0x3000 at the end.
    #expect(outcome.resets == 1 && outcome.freedByReplay == 3)
    #expect(outcome.peakLiveBytes == 150)
    #expect(stack.liveBlocks == 0 && stack.deallocations == 4)
    #expect(stack.parent.refusals == 1)
  }

  @Test func rejectsLinesNotInTheFormat() {
    #expect(throws: TraceFormatError.self) { try TraceRecord.parse("a 1 8 0x10\nfree 0x10\n") }
    #expect(TraceRecord(line: "d 1000 8 8") == nil)
    #expect(TraceRecord(line: "a 1 8") == nil)
  }
}
