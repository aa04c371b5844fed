import Dispatch
import Foundation
import Regions
import RegionsTestSupport
import Testing

/// Waits (at most a few seconds) until `condition` holds; returns whether it did.
func eventually(_ condition: () -> Bool) -> Bool {
  for _ in 0..<500 {
    if condition() { return true }
    usleep(10_000)
  }
  return condition()
}

@Suite(
  "What the C library and the runtimes keep for themselves is neither a leak nor pinned", .hookMode)
struct RuntimeStateTests {
  @Test func aFoundationThreadStartedInACheckRegionLeavesNothingLive() async {
    await #expect(processExitsWith: .success) {
      var stack = Check { Chunk(65536) { Mmap() } }
      let withheld = Region.memory.withheldBytes
      Region.enter(&stack) {
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread { finished.signal() }
        thread.start()
        finished.wait()
        // The thread lets go of its Thread object as it ends.
        precondition(eventually { thread.isFinished })
        usleep(20_000)  // the thread lets go of its Thread object as it exits
      }
      precondition(stack.leakedBlocks == 0)
      precondition(Region.memory.withheldBytes == withheld, "a span stays withheld")
    }
  }

  @Test func aRawThreadCreatedInACheckRegionLeavesNothingLive() async {
    await #expect(processExitsWith: .success) {
      var stack = Check { Chunk(65536) { Mmap() } }
      Region.enter(&stack) {
        var thread = pthread_t()
        precondition(pthread_create(&thread, nil, { _ in nil }, nil) == 0)
        pthread_join(thread, nil)
      }
      precondition(stack.leakedBlocks == 0)
    }
  }

  @Test func theFirstGlobalQueueWorkItemLeavesNothingLive() async {
    await #expect(processExitsWith: .success) {
      var stack = Stats { Check { Chunk(65536) { Mmap() } } }
      let withheld = Region.memory.withheldBytes
      Region.enter(&stack) {
        for _ in 0..<50 {
          let group = DispatchGroup()
          let text = String(repeating: "work ", count: 10)  // the work item captures region memory
          DispatchQueue.global().async(group: group) { keep(text + "!") }
          group.wait()
        }
        // Dispatch releases a finished work item's closure on its own thread, a moment later.
        precondition(eventually { Region.current!.liveBlocks == 0 })
      }
      precondition(stack.parent.leakedBlocks == 0)
      precondition(Region.memory.withheldBytes == withheld)
    }
  }

  @Test func aWorkItemRunsInTheSubmittingRegionWhenItJoinsIt() {
    var stack = Stats { Chunk(65536) { Mmap() } }
    let counted: Int = Region.enter(&stack) {
      let region = Region.current!
      let before = region.inspect(Stats<Chunk<Mmap>>.self) { $0.allocations } ?? 0
      let group = DispatchGroup()
      nonisolated(unsafe) var made: [String] = []
      DispatchQueue.global().async(group: group) {
        // Dispatch does not carry task-locals: join the region the work came from.
        region.join {
          made = (0..<100).map { String($0) + " items, each longer than fifteen bytes" }
        }
      }
      group.wait()
      keep(made)
      return (region.inspect(Stats<Chunk<Mmap>>.self) { $0.allocations } ?? 0) - before
    }
    #expect(counted >= 100)
  }
}
