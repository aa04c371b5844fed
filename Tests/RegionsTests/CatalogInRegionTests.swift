import Foundation
import Regions
import RegionsTestSupport
import Synchronization
import Testing

/// Tells aThreadSafeRegionClosesWhileThreadsAllocateInIt's threads to stop.
private let closingRegionStops = Atomic<Bool>(false)

/// Catalog layers as (part of) a region's stack, in hook mode: Swift and C allocations
/// from the scope, and from two threads joined to the region freeing each other's blocks.
@Suite("Catalog layers in a region", .serialized)
struct CatalogInRegionTests {
  /// Two workers (made outside the region, so that their bookkeeping is not counted).
  static func workers() -> [StressWorker] {
    [StressWorker(seed: 3, operations: 100_000), StressWorker(seed: 4, operations: 100_000)]
  }

  /// Two threads allocate in the region at once, then each frees what the other left.
  static func twoThreads(_ workers: [StressWorker], in region: Region) {
    Region.escape {
      for pairs in [[(0, 0), (1, 1)], [(0, 1), (1, 0)]] {
        let group = DispatchGroup()
        for (worker, other) in pairs {
          group.enter()
          Thread.detachNewThread {
            region.join {
              if worker == other {
                workers[worker].run()
              } else {
                workers[worker].freeRemaining(of: workers[other])
              }
            }
            group.leave()
          }
        }
        group.wait()
      }
    }
  }

  /// A thread-safe stack (the region calls it without its own lock) counts exactly.
  @Test(.hookMode) func lockedAndPerThreadServeTwoThreads() throws {
    var locked = Locked { Stats { Chunk(1 << 20) { Mmap() } } }
    let lockedWorkers = Self.workers()
    Region.enter(&locked) { Self.twoThreads(lockedWorkers, in: Region.current!) }
    let mallocs = lockedWorkers.reduce(0) { $0 + $1.mallocs }
    #expect(lockedWorkers.allSatisfy { $0.corrupted == 0 })
    #expect(locked.parent.allocations == mallocs)
    #expect(locked.parent.deallocations == mallocs)

    var perThread = PerThread(slots: 8) { Stats { Chunk(1 << 20) { Mmap() } } }
    let workers = Self.workers()
    let handovers = Region.enter(&perThread) {
      let region = Region.current!
      let before = region._lockHandovers
      Self.twoThreads(workers, in: region)
      return region._lockHandovers - before
    }
    // Called without the region's lock: its bias never moves to the second thread.
    #expect(handovers == 0)
    var allocations = 0
    var deallocations = 0
    var slots = 0
    perThread.forEachSlot { _, stats in
      allocations += stats.allocations
      deallocations += stats.deallocations
      slots += 1
    }
    #expect(workers.allSatisfy { $0.corrupted == 0 })
    #expect(slots >= 2)
    #expect(allocations == workers.reduce(0) { $0 + $1.mallocs })
    #expect(deallocations == allocations)
  }

  /// A region over a thread-safe stack closes while other threads allocate and free in it: the
  /// close waits for the calls in flight, later calls go to the ground, and the blocks served
  /// before the close stay usable (their pages are withheld) until they are freed.
  @Test(.hookMode) func aThreadSafeRegionClosesWhileThreadsAllocateInIt() {
    let threads = 2
    let done = DispatchGroup()
    nonisolated(unsafe) let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads)
    counts.initialize(repeating: 0, count: threads)
    defer { counts.deallocate() }
    var liveDuring = 0
    Region.enter(PerThread { SizeClasses { Mmap() } }) {
      let region = Region.current!
      let before = region.liveBlocks
      Region.escape {
        for index in 0..<threads {
          done.enter()
          Thread.detachNewThread {
            region.join {
              var held: [UnsafeMutableRawPointer] = []
              held.reserveCapacity(64)
              while !closingRegionStops.load(ordering: .relaxed) {
                let block = opaqueMalloc(24 + counts[index] % 200)!
                block.storeBytes(of: counts[index], as: Int.self)
                held.append(block)
                if held.count == 64 {
                  for (offset, block) in held.enumerated() {
                    precondition(block.load(as: Int.self) == counts[index] - 63 + offset)
                    opaqueFree(block)
                  }
                  held.removeAll(keepingCapacity: true)
                }
                counts[index] += 1
              }
              for block in held { opaqueFree(block) }
            }
            done.leave()
          }
        }
      }
      let kept = (0..<100).map { _ in opaqueMalloc(40)! }
      liveDuring = region.liveBlocks - before
      for block in kept { opaqueFree(block) }
      usleep(20_000)  // the threads keep allocating while the scope ends
    }
    usleep(20_000)  // and after it: now on the ground
    closingRegionStops.store(true, ordering: .relaxed)
    done.wait()
    #expect(liveDuring >= 100)
    #expect((0..<threads).allSatisfy { counts[$0] > 0 })
  }

  /// Guard, Limit, Fallback, Align, Zero and Trace under a region, with Swift objects.
  @Test(.hookMode) func debugAndCombiningLayersServeSwiftCode() throws {
    let path = NSTemporaryDirectory() + "regions-in-region-\(getpid()).trace"
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = Self.workload()  // metadata the runtime keeps is made outside
    var stack = Stats {
      Trace(to: path) {
        Fallback {
          Limit(bytes: 64 << 10) { Align(32) { Zero { Guard { Chunk(1 << 20) { Mmap() } } } } }
        } otherwise: {
          Guard(.pages) { Mmap() }
        }
      }
    }
    let total = Region.enter(&stack) { Self.workload() }
    #expect(total == 4_950 + 20_000 * 19_999 / 2)
    #expect(stack.allocations > 100 && stack.deallocations == stack.allocations)
    let fallback = stack.parent.parent
    #expect(fallback.fallbacks > 0 && fallback.primary.refusals == fallback.fallbacks)
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("a ") }.count == stack.allocations)
    #expect(lines.filter { $0.hasPrefix("d ") }.count == stack.deallocations)
    #expect(lines.last == "r")  // the region's teardown resets the stack
  }

  static func workload() -> Int {
    final class Box {
      var value: Int
      init(_ value: Int) { self.value = value }
    }
    let boxes = (0..<100).map { Box($0) }
    var numbers: [Int] = []
    for value in 0..<20_000 { numbers.append(value) }  // grows past the 64 KiB budget
    return boxes.reduce(0) { $0 + $1.value } + numbers.reduce(0, +)
  }
}

/// The pools serve Swift code as a region's whole stack.
@Suite("Pools in a region", .serialized, .hookMode)
struct PoolsInRegionTests {
  static func run<Stack: Layer>(_ stack: inout Stats<Stack>) -> Int {
    _ = CatalogInRegionTests.workload()
    return Region.enter(&stack) { CatalogInRegionTests.workload() }
  }

  static let expected = 4_950 + 20_000 * 19_999 / 2

  @Test func bonwick() throws {
    var stack = Stats { Bonwick { Mmap() } }
    #expect(Self.run(&stack) == Self.expected)
    #expect(stack.allocations > 100 && stack.liveBlocks == 0)
  }

  @Test func buddy() throws {
    var stack = Stats { Buddy(baseSize: 64, blockExponent: 12) { Mmap() } }
    #expect(Self.run(&stack) == Self.expected)
    #expect(stack.allocations > 100 && stack.liveBlocks == 0)
  }

  @Test func freeListAndSizeClasses() throws {
    var stack = Stats { SizeClasses { FreeList { Mmap() } } }
    #expect(Self.run(&stack) == Self.expected)
    #expect(stack.allocations > 100 && stack.liveBlocks == 0)
  }

  @Test func pipeUnderABonwickRegionInsideAChunkRegion() throws {
    var outer = Stats { Chunk(1 << 20) { Mmap() } }
    var inner = Stats { Bonwick { OuterRegionPages() } }
    let total = Region.enter(&outer) { Self.run(&inner) }
    #expect(total == Self.expected)
    #expect(inner.allocations > 100 && inner.liveBlocks == 0)
    #expect(outer.allocations > 0 && outer.liveBlocks == 0)
  }
}
