// Importing Regions next to the modules a Swift program commonly imports must not make any of
// their names ambiguous: this file compiles only if every unqualified name below resolves.
import Dispatch
import Foundation
import FoundationEssentials
import Regions
import Synchronization
import Testing
import XCTest

@Suite("Regions' names do not clash with Foundation, Dispatch, Synchronization, XCTest or Testing")
struct NamesTests {
  @Test func commonNamesOfOtherModulesStayUnambiguous() throws {
    let pipe = Pipe()  // Foundation's, for a Process
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/echo")
    process.arguments = ["names"]
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(output == "names\n")

    let queue = DispatchQueue(label: "names")
    let group = DispatchGroup()
    let counter = Mutex(0)
    let atomic = Atomic<Int>(0)
    queue.async(group: group) {
      counter.withLock { $0 += 1 }
      atomic.add(1, ordering: .relaxed)
    }
    group.wait()
    #expect(counter.withLock { $0 } == 1)
    #expect(atomic.load(ordering: .relaxed) == 1)

    let thread = Thread {}
    thread.start()
    let lock = NSLock()
    lock.lock()
    lock.unlock()
    let _: Stream? = nil
    let _: OperationQueue = OperationQueue()
    let _: Data = Data()
    let _: Date = Date()
    let _: Duration = .seconds(1)
    let _: ContinuousClock = ContinuousClock()
    let _: XCTestCase.Type = XCTestCase.self
    let _: Tag? = nil
  }

  @Test func regionsNamesResolveToTheirLayers() {
    var stack = Stats {
      Check(onLeak: .report) {
        Limit(bytes: 1 << 30) {
          Chunk(65536) { OuterRegionPages() }
        }
      }
    }
    let block = stack.allocate(byteCount: 32, alignment: 16)
    #expect(block != nil)
    if let block { stack.deallocate(block, byteCount: 32, alignment: 16) }
    stack.reset()
    let _: [any Layer.Type] = [
      Mmap.self, ProcessAllocator.self, GroundPages.self, OuterRegionPages.self, Sbrk.self,
      Chunk<Mmap>.self, Batch<Mmap>.self, Stats<Mmap>.self, Check<Mmap>.self, Bypass<Mmap>.self,
      Align<Mmap>.self, Zero<Mmap>.self, Limit<Mmap>.self, Guard<Mmap>.self, Trace<Mmap>.self,
      Profile<Mmap>.self,
      Locked<Mmap>.self, PerThread<Mmap>.self, Bonwick<Mmap>.self, Buddy<Mmap>.self,
      FreeList<Mmap>.self, SizeClasses<Mmap>.self, Fallback<Mmap, Mmap>.self,
      BySize<Mmap, Mmap>.self,
    ]
    let _: Region? = Region.current
  }
}
