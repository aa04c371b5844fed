import Glibc
import Regions
import RegionsTestSupport
import Synchronization
import Testing

/// Runs `body` on a new thread; returns the thread, to join.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
  final class Work: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  var thread = pthread_t()
  let work = Unmanaged.passRetained(Work(body)).toOpaque()
  let created = pthread_create(
    &thread, nil,
    { raw in
      Unmanaged<Work>.fromOpaque(raw!).takeRetainedValue().body()
      return nil
    }, work)
  precondition(created == 0)
  return thread
}

let stopping = Atomic<Bool>(false)

@Suite("fork while other threads hold a region's lock", .hookMode)
struct ForkTests {
  /// glibc's tst-malloc-fork-deadlock: threads allocate in one region, holding its lock most
  /// of the time, while the main thread forks again and again; each child allocates, frees,
  /// enters a region of its own and exits 0.
  @Test func childrenOfAForkAllocateEnterRegionsAndExit() async {
    await #expect(processExitsWith: .success) {
      alarm(300)
      var stack = Stats { SizeClasses { Mmap() } }
      Region.enter(&stack) {
        nonisolated(unsafe) let region = Region.current!
        let threads = (0..<3).map { _ in
          startThread {
            region.join {
              while !stopping.load(ordering: .relaxed) {
                for size in [24, 100, 1000, 4000] { opaqueFree(opaqueMalloc(size)) }
              }
            }
          }
        }
        for round in 0..<100 {
          let child = fork()
          if child == 0 {
            alarm(20)  // a deadlock in the child ends it
            opaqueFree(opaqueMalloc(100))
            let count = Region.enter(Stats { Chunk(65536) { Mmap() } }) { () -> Int in
              let array = (0..<1000).map { [$0] }
              keep(array)
              return array.count
            }
            _exit(count == 1000 ? 0 : 3)
          }
          var status: Int32 = 0
          precondition(waitpid(child, &status, 0) == child)
          precondition(status == 0, "round \(round): child status \(status)")
        }
        stopping.store(true, ordering: .relaxed)
        for thread in threads { pthread_join(thread, nil) }
      }
      precondition(stack.allocations == stack.deallocations)
    }
  }

  /// A fork while another thread opens and closes regions: the child has closed every region
  /// it inherited, so it counts none open (one being opened or closed at the fork included),
  /// and its mallocs pass straight to the ground again.
  @Test func aChildCountsNoRegionOpenWhateverAnotherThreadWasDoing() async {
    await #expect(processExitsWith: .success) {
      alarm(300)
      let churning = startThread {
        while !stopping.load(ordering: .relaxed) {
          Region.enter(Stats { Chunk(4096) { Mmap() } }) {
            for size in [24, 100, 1000] { opaqueFree(opaqueMalloc(size)) }
          }
        }
      }
      for round in 0..<300 {
        let child = fork()
        if child == 0 {
          alarm(20)
          _exit(Region._openRegions == 0 ? 0 : 4)
        }
        var status: Int32 = 0
        precondition(waitpid(child, &status, 0) == child)
        precondition(status == 0, "round \(round): child status \(status)")
      }
      stopping.store(true, ordering: .relaxed)
      pthread_join(churning, nil)
    }
  }
}
