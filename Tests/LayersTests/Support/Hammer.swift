import Dispatch
import Foundation
import Layers
import RegionsTestSupport
import Synchronization

/// Drives one thread-safe stack from several threads at once, through one pointer, as a
/// region does; with `handOff`, about a third of the blocks are freed by another thread.
///
/// Every block carries a tag at its start and end, checked when it is freed, so blocks
/// handed out twice (a race in the stack) show up as `corruptions`.
enum Hammer {
  struct Totals: Equatable {
    var allocations = 0
    var deallocations = 0
    var bytesAllocated = 0
    var bytesDeallocated = 0
    var corruptions = 0
    var handedOff = 0
  }

  struct Block: @unchecked Sendable {
    var pointer: UnsafeMutableRawPointer
    var byteCount: Int
    var alignment: Int
  }

  struct SharedPointer<L>: @unchecked Sendable { let pointer: UnsafeMutablePointer<L> }

  static func tag(_ block: Block) -> UInt64 {
    UInt64(UInt(bitPattern: block.pointer)) ^ 0xA5A5_5A5A
  }

  static func stamp(_ block: Block) {
    guard block.byteCount >= 8 else { return }
    block.pointer.storeBytes(of: tag(block), as: UInt64.self)
    guard block.byteCount >= 16 else { return }
    block.pointer.storeBytes(of: tag(block), toByteOffset: block.byteCount - 8, as: UInt64.self)
  }

  static func intact(_ block: Block) -> Bool {
    guard block.byteCount >= 8 else { return true }
    guard block.pointer.loadUnaligned(as: UInt64.self) == tag(block) else { return false }
    return block.byteCount < 16
      || block.pointer.loadUnaligned(fromByteOffset: block.byteCount - 8, as: UInt64.self)
        == tag(block)
  }

  /// Runs `body(i)` for i in 0..<count, each on a new thread of its own, all at once;
  /// returns when every thread is done.
  static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let gate = Gate(count: count)
    let done = DispatchSemaphore(value: 0)
    for index in 0..<count {
      Thread {
        gate.arriveAndWait()
        body(index)
        done.signal()
      }.start()
    }
    for _ in 0..<count { done.wait() }
  }

  /// Holds threads until `count` of them have arrived, so that they run at the same time.
  final class Gate: Sendable {
    let arrived = Atomic<Int>(0)
    let count: Int
    init(count: Int) { self.count = count }
    func arriveAndWait() {
      arrived.add(1, ordering: .acquiringAndReleasing)
      while arrived.load(ordering: .acquiring) < count { sched_yield() }
    }
  }

  /// Runs `operations` random operations on each of `threads` threads against `stack`.
  static func run<L: Layer & SendableMetatype>(
    _ stack: UnsafeMutablePointer<L>, threads: Int = 2, operations: Int, handOff: Bool
  ) -> Totals {
    let shared = SharedPointer(pointer: stack)
    let mailbox = Mutex<[Block]>([])
    let results = Mutex<Totals>(Totals())
    onThreads(threads) { thread in
      var random = SplitMix64(seed: 0xC0FFEE &+ UInt64(thread))
      var live: [Block] = []
      var totals = Totals()
      func free(_ block: Block) {
        if !intact(block) { totals.corruptions += 1 }
        shared.pointer.pointee.deallocate(
          block.pointer, byteCount: block.byteCount, alignment: block.alignment)
        totals.deallocations += 1
        totals.bytesDeallocated += block.byteCount
      }
      for _ in 0..<operations {
        let roll = random.next() % 100
        if roll < 52 || live.isEmpty {
          let byteCount = Int(random.next() % 300)
          let alignment = 1 << Int(random.next() % 6)
          guard
            let pointer = shared.pointer.pointee.allocate(
              byteCount: byteCount, alignment: alignment)
          else {
            totals.corruptions += 1
            continue
          }
          let block = Block(pointer: pointer, byteCount: byteCount, alignment: alignment)
          stamp(block)
          totals.allocations += 1
          totals.bytesAllocated += byteCount
          live.append(block)
        } else if handOff && roll < 70 {
          let index = Int(random.next() % UInt64(live.count))
          let block = live.remove(at: index)
          let taken = mailbox.withLock { box -> Block? in
            box.append(block)
            return box.count > 8 ? box.removeFirst() : nil
          }
          totals.handedOff += 1
          if let taken { free(taken) }
        } else {
          free(live.remove(at: Int(random.next() % UInt64(live.count))))
        }
        if live.count > 200 { free(live.removeLast()) }
      }
      for block in live { free(block) }
      results.withLock {
        $0.allocations += totals.allocations
        $0.deallocations += totals.deallocations
        $0.bytesAllocated += totals.bytesAllocated
        $0.bytesDeallocated += totals.bytesDeallocated
        $0.corruptions += totals.corruptions
        $0.handedOff += totals.handedOff
      }
    }
    for block in mailbox.withLock({ $0 }) {
      let ok = intact(block)
      stack.pointee.deallocate(
        block.pointer, byteCount: block.byteCount, alignment: block.alignment)
      results.withLock {
        $0.deallocations += 1
        $0.bytesDeallocated += block.byteCount
        if !ok { $0.corruptions += 1 }
      }
    }
    return results.withLock { $0 }
  }
}
