import Regions
import RegionsTestSupport
import Testing

final class Leaky {
  var payload = Array(repeating: 1, count: Int.random(in: 3...3))  // a heap array, not a constant
}

nonisolated(unsafe) var globalLeak: Leaky? = nil

struct Box<Value> {
  var value: Value
}

final class GenericHolder<Value> {
  var value: Value
  init(_ value: Value) { self.value = value }
}

protocol Shape { var sides: Int { get } }
struct Triangle: Shape { var sides: Int { 3 } }

/// The function a leak report must name: it stores a new object in a global.
@inline(never)
func storeASessionInAGlobal() {
  globalLeak = Leaky()
}

@Suite("Check in a region reports leaks a person can act on", .hookMode)
struct LeakReportTests {
  /// The report names the function that allocated the leaked object, per site.
  @Test func aLeakReportNamesTheFunctionThatAllocated() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Check { Chunk(65536) { Mmap() } }) { storeASessionInAGlobal() }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("by allocation site:"))
    let site = message.components(separatedBy: "by allocation site:").last ?? ""
    #expect(site.contains("1 × RegionsTests.Leaky"))
    #expect(site.contains("storeASessionInAGlobal"))
  }

  @Test func anObjectStoredInAGlobalIsReportedByItsClass() async throws {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      Region.enter(Check { Chunk(65536) { Mmap() } }) {
        globalLeak = Leaky()
      }
    }
    let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    #expect(message.contains("live blocks"))
    #expect(message.contains("1 × RegionsTests.Leaky"))
    #expect(message.contains("1 × Swift._ContiguousArrayStorage<Swift.Int>"))
  }

  @Test func theRuntimesOwnAllocationsAreNotLeaks() async throws {
    // In a child process: a failure stops it, not the whole test run.
    await #expect(processExitsWith: .success) {
      var stack = Stats { Check { Chunk(65536) { Mmap() } } }
      let sides = await Region.enter(&stack) { () async -> Int in
        // First use of generic types: their metadata is instantiated here.
        let holder = GenericHolder(Box(value: (1, "two", 3.0)))
        // A protocol cast fills the conformance cache.
        let shape = (Triangle() as Any) as? any Shape
        // A task, created and awaited in the region.
        let fromTask = await Task { holder.value.value.0 + 1 }.value
        return (shape?.sides ?? 0) + fromTask
      }
      precondition(sides == 5)
      precondition(stack.liveBlocks == 0, "live blocks: \(stack.liveBlocks)")
      precondition(stack.parent.leakedBlocks == 0)
    }
  }
}
