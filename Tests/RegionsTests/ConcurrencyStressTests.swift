import Foundation
import Regions
import RegionsTestSupport
import Testing

/// One worker's side of the stress test: its own random sequence of mallocs and frees, with
/// its live blocks in a buffer allocated before the region (so the test's bookkeeping never
/// lands in the region).
final class StressWorker: @unchecked Sendable {
  let seed: UInt64
  let operations: Int
  let capacity = 1024
  let live: UnsafeMutablePointer<UnsafeMutableRawPointer?>
  var liveCount = 0
  var mallocs = 0
  var frees = 0
  var corrupted = 0

  init(seed: UInt64, operations: Int) {
    self.seed = seed
    self.operations = operations
    live = .allocate(capacity: capacity)
    live.initialize(repeating: nil, count: capacity)
  }

  deinit { live.deallocate() }

  func run() {
    var random = SplitMix64(seed: seed)
    for _ in 0..<operations {
      if liveCount > 0 && (liveCount == capacity || random.next() % 2 == 0) {
        let index = Int(random.next() % UInt64(liveCount))
        free(live[index]!)
        frees += 1
        liveCount -= 1
        live[index] = live[liveCount]
      } else {
        let size = 8 + Int(random.next() % 249)
        let block = malloc(size)!
        block.storeBytes(of: size, as: Int.self)
        mallocs += 1
        live[liveCount] = block
        liveCount += 1
      }
    }
  }

  /// Frees another worker's remaining blocks (cross-thread frees), checking their contents.
  func freeRemaining(of other: StressWorker) {
    for index in 0..<other.liveCount {
      let block = other.live[index]!
      let size = block.load(as: Int.self)
      if size < 8 || size > 256 { corrupted += 1 }
      free(block)
      frees += 1
    }
    other.liveCount = 0
  }
}

@Suite("Concurrent allocation in one region", .serialized, .hookMode)
struct ConcurrencyStressTests {
  @Test func twoThreadsAMillionOperationsEachWithCrossThreadFrees() throws {
    let workers = [
      StressWorker(seed: 1, operations: 1_000_000), StressWorker(seed: 2, operations: 1_000_000),
    ]
    var stats = Stats { Chunk(1 << 20) { Mmap() } }
    let revocationsBefore = Region._lockRevocations
    Region.enter(&stats) {
      let region = Region.current!
      Region.escape {
        // Both threads allocate and free in the region at the same time...
        let group = DispatchGroup()
        for worker in workers {
          Thread.detachNewThread {
            region.join { worker.run() }
            group.leave()
          }
          group.enter()
        }
        group.wait()
        // ...then each frees what the other left live.
        let crossGroup = DispatchGroup()
        for (worker, other) in [(workers[0], workers[1]), (workers[1], workers[0])] {
          crossGroup.enter()
          Thread.detachNewThread {
            region.join { worker.freeRemaining(of: other) }
            crossGroup.leave()
          }
        }
        crossGroup.wait()
      }
    }
    let mallocs = workers.reduce(0) { $0 + $1.mallocs }
    let frees = workers.reduce(0) { $0 + $1.frees }
    #expect(mallocs > 900_000)
    #expect(stats.allocations == mallocs)
    #expect(stats.deallocations == frees)
    #expect(frees == mallocs)
    #expect(stats.liveBlocks == 0)
    #expect(workers.allSatisfy { $0.corrupted == 0 })
    // Threads other than the one that entered took the region's lock: the bias was revoked.
    #expect(Region._lockRevocations > revocationsBefore)
  }
}
