import Regions
import RegionsTestSupport
import Testing

struct ParseError: Error {
  var message: String
  var line: Int
}

@inline(never) func parse(_ text: String) throws -> Int {
  if text.contains("!") { throw ParseError(message: "unexpected '!' in \(text)", line: 3) }
  return text.count
}

@Suite("An error thrown out of a region propagates like any escaping value", .hookMode)
struct ThrownErrorTests {
  @Test func aThrowingParserInACheckRegionReachesItsCatch() async throws {
    // In a child process: a Check stop would end it, not the test run.
    await #expect(processExitsWith: .success) {
      var stack = Check { Chunk(65536) { Mmap() } }
      let input = String(repeating: "word ", count: 20) + "!"
      var caught: ParseError? = nil
      do {
        _ = try Region.enter(&stack) { try parse(input) }
      } catch let error as ParseError {
        caught = error
      }
      precondition(caught?.line == 3, "the catch ran")
      precondition(caught?.message.hasPrefix("unexpected '!' in word word") == true)
      precondition(stack.leakedBlocks == 0, "leaked: \(stack.leakedBlocks)")
      precondition(stack.escapedBlocks >= 2, "the box and the message left: \(stack.escapedBlocks)")
    }
  }

  @Test func theErrorsMemoryStaysValidAfterLaterRegions() throws {
    var stack = Stats { Check(onLeak: .report) { Chunk(65536) { Mmap() } } }
    let input = String(repeating: "x", count: 200) + "!"
    var caught: ParseError? = nil
    do {
      _ = try Region.enter(&stack) { try parse(input) }
    } catch let error as ParseError {
      caught = error
    }
    // Later regions reuse pages; the error's blocks are withheld, not reused.
    for _ in 0..<20 {
      Region.enter(Chunk(65536) { Mmap() }) {
        keep((0..<500).map { String($0) })
      }
    }
    #expect(caught?.message == "unexpected '!' in \(input)")
    #expect(stack.parent.leakedBlocks == 0)
    #expect(stack.parent.escapedBlocks >= 2)
  }

  @Test func aRegionThatDoesNotThrowStillReportsItsLeaks() async throws {
    await #expect(processExitsWith: .failure) {
      Region.enter(Check { Chunk(65536) { Mmap() } }) {
        leakedForTheTest = ParseError(message: String(repeating: "m", count: 64), line: 1)
      }
    }
  }
}

nonisolated(unsafe) var leakedForTheTest: ParseError? = nil
