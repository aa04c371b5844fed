import Glibc
import Regions
import RegionsTestSupport
import Synchronization
import Testing

final class Mailbox: @unchecked Sendable {
  let slots = UnsafeMutablePointer<Atomic<UInt>>.allocate(capacity: 64)
  init() { for index in 0..<64 { (slots + index).initialize(to: Atomic(0)) } }
}

@Suite("Threads that come and go", .hookMode)
struct ThreadChurnTests {
  /// 10,000 threads created and joined in a region, each allocating blocks and leaving some
  /// that later threads free: exact counts, and the runtime's per-thread records are reused
  /// (its own memory is flat after warm-up).
  @Test func tenThousandThreadsLeaveTheRuntimeFlat() {
    var stack = Stats { SizeClasses { Mmap() } }
    let mailbox = Mailbox()
    var recordsAfterWarmUp = 0
    Region.enter(&stack) {
      nonisolated(unsafe) let region = Region.current!
      for index in 0..<10_000 {
        let thread = startThread {
          region.join {
            let kept = opaqueMalloc(48)!
            kept.storeBytes(of: UInt(bitPattern: kept), as: UInt.self)
            let previous = mailbox.slots[index % 64].exchange(
              UInt(bitPattern: kept), ordering: .acquiringAndReleasing)
            if let previous = UnsafeMutableRawPointer(bitPattern: previous) {
              precondition(previous.load(as: UInt.self) == UInt(bitPattern: previous))
              opaqueFree(previous)
            }
            opaqueFree(opaqueMalloc(200))
          }
        }
        pthread_join(thread, nil)
        if index == 100 { recordsAfterWarmUp = Region._threadRecords }
      }
      for index in 0..<64 {
        opaqueFree(
          UnsafeMutableRawPointer(
            bitPattern: mailbox.slots[index].exchange(0, ordering: .acquiringAndReleasing)))
      }
    }
    #expect(stack.allocations >= 20_000)
    #expect(stack.allocations == stack.deallocations)
    // Threads of tests running meanwhile may take records too; 10,000 never come back.
    #expect(Region._threadRecords < recordsAfterWarmUp + 100, "records: \(Region._threadRecords)")
  }
}
