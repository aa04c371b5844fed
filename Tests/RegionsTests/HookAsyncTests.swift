import Regions
import RegionsTestSupport
import Testing

/// A Swift object whose allocation the tests can count.
final class Payload: @unchecked Sendable {
  var values: [Int]
  init(_ count: Int) { values = Array(repeating: 7, count: count) }
}

@inline(never) func makePayloads(_ count: Int) -> Int {
  var total = 0
  for index in 0..<count {
    let payload = Payload(index % 5 + 1)
    keep(payload)
    total += payload.values.count
  }
  return total
}

@Suite("Hook mode across tasks and threads", .serialized, .hookMode)
struct HookAsyncTests {
  init() {
    _ = makePayloads(10)  // warm up metadata outside any region
  }

  @Test func allocationsAfterAnAwaitStillGoToTheRegion() async throws {
    var stats = Stats { Chunk(65536) { Mmap() } }
    let (before, after) = await Region.enter(&stats) { () async -> (Int, Int) in
      let before = makePayloads(100)
      for _ in 0..<10 { await Task.yield() }
      let after = makePayloads(100)
      return (before, after)
    }
    #expect(before == after)
    // Each payload is an object and an array buffer: at least 400 allocations.
    #expect(stats.allocations >= 400)
    // The payloads are gone; at most a block or two of the task's own machinery remains.
    #expect(stats.liveBlocks <= 4)
  }

  @Test func childTasksAllocateInTheRegion() async throws {
    var stats = Stats { Chunk(65536) { Mmap() } }
    let total = await Region.enter(&stats) { () async -> Int in
      async let first = Task { makePayloads(500) }.value
      let second = await withTaskGroup(of: Int.self) { group in
        for _ in 0..<4 { group.addTask { makePayloads(250) } }
        return await group.reduce(0, +)
      }
      return await first + second
    }
    // makePayloads(n) returns n/5 * (1+2+3+4+5) and makes 2n allocations.
    #expect(total == 1500 + 4 * 750)
    #expect(stats.allocations >= 2 * (500 + 4 * 250))
    // Child task records may still be live when the scope ends; the payloads are not.
    #expect(stats.liveBlocks < 40)
  }

  @Test func detachedTasksDoNotInheritTheRegion() async throws {
    var stats = Stats { Chunk(65536) { Mmap() } }
    await Region.enter(&stats) { () async in
      _ = await Task.detached { makePayloads(1000) }.value
    }
    // The detached task's 2000 allocations went to the ground; only the task machinery
    // created in the region (a few blocks) may have landed here.
    #expect(stats.allocations < 50)
  }

  @Test func taskStartedInAScopeAllocatesOutsideAfterTheScopeEnds() async throws {
    var stats = Stats { Chunk(65536) { Mmap() } }
    let gate = AsyncGate()
    let task = Region.enter(&stats) {
      Task { () async -> Int in
        await gate.wait()
        return makePayloads(1000)
      }
    }
    let countAtClose = stats.allocations
    await gate.open()
    #expect(await task.value == 3000)  // 1000 payloads of 1…5 elements
    // The region closed before the task allocated: none of its 2000 blocks went there.
    #expect(stats.allocations == countAtClose)
  }

  @Test func servingAnAllocationNeverAllocates() throws {
    // Bypass forwards through WrappingLayer's defaults: in debug builds those must not
    // allocate either.
    var stats = Stats { Bypass { Chunk(4096) { Batch { Check { Mmap() } } } } }
    // Warm up every path of this stack (chunk refills, table growth): the Swift runtime
    // instantiates generic metadata on first use, and the guard sends that to the ground.
    Region.enter(&stats) { _ = makePayloads(5000) }
    let reentries = Region._hookReentries
    Region.enter(&stats) { _ = makePayloads(5000) }
    #expect(Region._hookReentries == reentries)
    #expect(stats.allocations >= 20_000)
  }
}

/// A one-shot gate tasks can wait on.
actor AsyncGate {
  private var isOpen = false
  private var waiters: [CheckedContinuation<Void, Never>] = []

  func wait() async {
    if isOpen { return }
    await withCheckedContinuation { waiters.append($0) }
  }

  func open() {
    isOpen = true
    for waiter in waiters { waiter.resume() }
    waiters.removeAll()
  }
}
