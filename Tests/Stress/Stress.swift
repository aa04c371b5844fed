import Regions
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A stress run in the style of mimalloc's test-stress: threads allocate blocks of mixed sizes
/// with malloc, hand them to each other through a shared array of slots, and free what they
/// take; every block carries a pattern derived from its address and size, checked when it is
/// freed. The threads share one region (one stack, called under its lock; frees cross
/// threads), enter short inner regions of their own whose blocks escape to the slots (so
/// regions close while their blocks are still being freed elsewhere), and come and go in
/// rounds, with blocks surviving from one round's threads to the next's.
public enum StressRun {
  public struct Options: Sendable {
    public var threads = 8
    public var rounds = 10
    /// Operations per thread per round.
    public var operationsPerRound = 2_500
    public var slots = 1024
    public var seed: UInt64 = 0x5EED

    public init() {}

    /// Operations in the whole run.
    public var operations: Int { threads * rounds * operationsPerRound }
  }

  public struct Outcome: Sendable {
    /// Blocks whose pattern had changed when they were freed (must be 0).
    public var violations = 0
    /// Blocks allocated.
    public var allocations = 0
    /// Inner regions entered (and closed).
    public var innerRegions = 0
    /// The shared region's stack's counts at the end: equal when nothing was lost.
    public var sharedAllocations = 0
    public var sharedDeallocations = 0
    /// Region memory still withheld once every block was freed (must be 0).
    public var withheldSpansAtEnd = 0
    /// Wall time, in seconds.
    public var seconds = 0.0
  }

  /// Runs the stress; the blocks left in the slots at the end are freed and checked too.
  public static func run(_ options: Options) -> Outcome {
    let shared = Shared(options)
    let start = monotonicSeconds()
    let withheldBefore = Region.memory.withheldSpans
    var stack = Stats { SizeClasses { Mmap() } }
    Region.enter(&stack) {
      let region = Region.current!
      for round in 0..<options.rounds {
        var threads: [pthread_t] = []
        for index in 0..<options.threads {
          let seed = options.seed &+ UInt64(round &* 7919 &+ index &* 104_729 &+ 1)
          let worker = Unmanaged.passRetained(Worker(shared: shared, region: region, seed: seed))
          var thread = pthread_t()
          let created = pthread_create(
            &thread, nil,
            { raw in
              let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
              worker.run()
              return nil
            }, worker.toOpaque())
          precondition(created == 0, "stress: pthread_create failed")
          threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
      }
      for index in 0..<options.slots { shared.release(shared.exchange(index, with: 0)) }
    }
    var outcome = Outcome()
    outcome.violations = shared.violations.load(ordering: .relaxed)
    outcome.allocations = shared.allocations.load(ordering: .relaxed)
    outcome.innerRegions = shared.innerRegions.load(ordering: .relaxed)
    outcome.sharedAllocations = stack.allocations
    outcome.sharedDeallocations = stack.deallocations
    outcome.withheldSpansAtEnd = Region.memory.withheldSpans - withheldBefore
    outcome.seconds = monotonicSeconds() - start
    return outcome
  }
}

/// What the threads share: the slots blocks pass through, and the counters.
final class Shared: @unchecked Sendable {
  let options: StressRun.Options
  let slots: UnsafeMutablePointer<Atomic<UInt>>
  let violations = Atomic<Int>(0)
  let allocations = Atomic<Int>(0)
  let innerRegions = Atomic<Int>(0)

  init(_ options: StressRun.Options) {
    self.options = options
    slots = .allocate(capacity: options.slots)
    for index in 0..<options.slots { (slots + index).initialize(to: Atomic(0)) }
  }

  deinit {
    slots.deinitialize(count: options.slots)
    slots.deallocate()
  }

  /// Puts `block` (an address, 0 for none) in slot `index`; returns what was there.
  func exchange(_ index: Int, with block: UInt) -> UInt {
    slots[index].exchange(block, ordering: .acquiringAndReleasing)
  }

  /// A block of `size` bytes, with its pattern.
  func make(_ size: Int) -> UInt {
    guard let block = malloc(size) else { fatalError("stress: malloc(\(size)) failed") }
    allocations.add(1, ordering: .relaxed)
    let address = UInt(bitPattern: block)
    block.storeBytes(of: size, as: Int.self)
    let bytes = block.assumingMemoryBound(to: UInt8.self)
    Self.forEachChecked(size) { bytes[$0] = Self.pattern(address, $0) }
    return address
  }

  /// Checks a block's pattern and frees it (0: nothing).
  func release(_ address: UInt) {
    guard address != 0, let block = UnsafeMutableRawPointer(bitPattern: address) else { return }
    let size = block.load(as: Int.self)
    let bytes = block.assumingMemoryBound(to: UInt8.self)
    var intact = size >= 8 && size <= 1 << 20
    if intact {
      Self.forEachChecked(size) { if bytes[$0] != Self.pattern(address, $0) { intact = false } }
    }
    if !intact { violations.add(1, ordering: .relaxed) }
    free(block)
  }

  /// The offsets a block's pattern covers: after its size word, the first and the last 64
  /// bytes.
  static func forEachChecked(_ size: Int, _ body: (Int) -> Void) {
    if size <= 136 {
      for offset in 8..<size { body(offset) }
      return
    }
    for offset in 8..<72 { body(offset) }
    for offset in (size - 64)..<size { body(offset) }
  }

  static func pattern(_ address: UInt, _ offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (address >> 4) &+ UInt(offset) &* 31)
  }
}

/// One thread of a round.
final class Worker: @unchecked Sendable {
  let shared: Shared
  let region: Region
  var random: UInt64

  init(shared: Shared, region: Region, seed: UInt64) {
    self.shared = shared
    self.region = region
    self.random = seed
  }

  func next() -> Int {
    random ^= random << 13
    random ^= random >> 7
    random ^= random << 17
    return Int(truncatingIfNeeded: random & 0x7FFF_FFFF)
  }

  /// A size between 8 B and 4 KiB, log-uniform; now and then 64 KiB.
  func size() -> Int {
    let roll = next()
    if roll % 97 == 0 { return 65536 }
    return 8 + (1 << (roll % 10)) + roll % 31
  }

  func run() {
    region.join {
      for _ in 0..<shared.options.operationsPerRound {
        let roll = next()
        if roll % 64 == 0 {
          // A short inner region whose blocks leave it through the slots.
          shared.innerRegions.add(1, ordering: .relaxed)
          Region.enter(Chunk(16384) { Mmap() }) {
            for _ in 0..<3 {
              let slot = next() % shared.options.slots
              shared.release(shared.exchange(slot, with: shared.make(size())))
            }
          }
        } else if roll % 5 == 0 {
          // Free what a slot holds.
          shared.release(shared.exchange(next() % shared.options.slots, with: 0))
        } else {
          let slot = next() % shared.options.slots
          shared.release(shared.exchange(slot, with: shared.make(size())))
        }
      }
    }
  }
}

func monotonicSeconds() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
