public import Layers
import RegionsTestSupportC

/// The randomized conformance check every layer and stack runs.
///
/// It drives a layer with a seeded random mix of allocate / deallocate / reset and checks:
/// no two live blocks overlap; every block honors its alignment; a pattern written to each
/// block is intact until the block is deallocated (the whole block up to 4 KiB, a head, a
/// tail and one word per KiB beyond); and, when given a probe, that the layer's counters
/// equal the checker's own. Half the requests try the layer's inline path first
/// (`allocateWithoutCalls`, `deallocateWithoutCalls`), as the runtime does; of the rest, half
/// go to `allocateUncleared`. A layer that says it returns zeroed memory must return zeroed
/// blocks from `allocate` and its inline path, reused ones included. It records violations
/// instead of trapping, so a test asserts that the list is empty and prints the first few.
public struct ConformanceChecker {
  /// How the checker drives the layer.
  public struct Options: Sendable {
    /// Operations to run (allocate, deallocate or reset).
    public var operations = 200_000
    /// Largest request; sizes are log-uniform between 1 and this, with some zero-byte requests.
    public var maxByteCount = 1 << 20
    /// Largest alignment; alignments are powers of two from 1 to this.
    public var maxAlignment = 4096
    /// Live blocks beyond which the checker only deallocates.
    public var maxLiveBlocks = 1_000
    /// One operation in this many is a reset (0: never reset).
    public var resetEvery = 20_000
    /// Whether a reset makes the layer take back every live block (Chunk, Batch); when
    /// false the checker deallocates every live block itself before it resets.
    public var resetReclaimsBlocks = true
    /// Whether nil from allocate is acceptable (budgets, fixed pools); otherwise it is a violation.
    public var allowsFailure = false
    /// The seed of the random sequence, printed with every violation.
    public var seed: UInt64 = 0x5EED

    public init() {}
  }

  /// What the layer's own counters say, compared with the checker's.
  public struct Counts: Equatable, Sendable, CustomStringConvertible {
    public var allocations = 0
    public var deallocations = 0
    public var bytesAllocated = 0
    public var bytesDeallocated = 0

    public init(
      allocations: Int = 0, deallocations: Int = 0, bytesAllocated: Int = 0,
      bytesDeallocated: Int = 0
    ) {
      self.allocations = allocations
      self.deallocations = deallocations
      self.bytesAllocated = bytesAllocated
      self.bytesDeallocated = bytesDeallocated
    }

    public var description: String {
      "\(allocations) allocations, \(deallocations) deallocations, \(bytesAllocated) B allocated, \(bytesDeallocated) B deallocated"
    }
  }

  /// What a run found.
  public struct Outcome: Sendable {
    /// Every violation, in order (capped at 20).
    public var violations: [String] = []
    /// The checker's own counts of what it did.
    public var counts = Counts()
    /// Allocations that returned nil.
    public var failedAllocations = 0
    /// Resets performed.
    public var resets = 0
    /// Most blocks live at once.
    public var peakLiveBlocks = 0
  }

  struct Block {
    var address: UInt
    var byteCount: Int
    var alignment: Int
    var tag: UInt8
  }

  public init() {}

  /// Runs the check against `layer`, then deallocates what is still live and resets it.
  ///
  /// - Parameter counters: reads the layer's counters (e.g. a Stats layer in the stack),
  ///   compared with the checker's own after every reset and at the end.
  public static func run<L: Layer>(
    _ layer: inout L, options: Options = Options(), counters: ((L) -> Counts)? = nil
  ) -> Outcome {
    var random = SplitMix64(seed: options.seed)
    var outcome = Outcome()
    // Live blocks sorted by address, for overlap checks.
    var live: [Block] = []
    var tagCounter: UInt8 = 0

    func violation(_ text: String) {
      if outcome.violations.count < 20 {
        outcome.violations.append("[seed \(options.seed)] \(text)")
      }
    }

    func insertionIndex(_ address: UInt) -> Int {
      var low = 0
      var high = live.count
      while low < high {
        let mid = (low + high) / 2
        if live[mid].address < address { low = mid + 1 } else { high = mid }
      }
      return low
    }

    func deallocate(at index: Int) {
      let block = live.remove(at: index)
      if let bad = Pattern.verify(block) {
        violation(
          "block 0x\(String(block.address, radix: 16)) (\(block.byteCount) B) was changed while live: \(bad)"
        )
      }
      // Half the time through the inline path first, as the runtime calls it.
      let pointer = UnsafeMutableRawPointer(bitPattern: block.address)!
      if random.next() % 2 != 0
        || !layer.deallocateWithoutCalls(
          pointer, byteCount: block.byteCount, alignment: block.alignment)
      {
        layer.deallocate(pointer, byteCount: block.byteCount, alignment: block.alignment)
      }
      outcome.counts.deallocations += 1
      outcome.counts.bytesDeallocated += block.byteCount
    }

    func compareCounters(_ when: String) {
      guard let counters else { return }
      let theirs = counters(layer)
      if theirs != outcome.counts {
        violation("\(when): the layer counts \(theirs), the checker \(outcome.counts)")
      }
    }

    func reset() {
      if !options.resetReclaimsBlocks {
        while !live.isEmpty { deallocate(at: live.count - 1) }
      }
      for block in live {
        if let bad = Pattern.verify(block) {
          violation("block 0x\(String(block.address, radix: 16)) was changed before reset: \(bad)")
        }
      }
      live.removeAll(keepingCapacity: true)
      layer.reset()
      outcome.resets += 1
      compareCounters("after reset \(outcome.resets)")
    }

    let alignmentExponents = options.maxAlignment.trailingZeroBitCount

    for step in 0..<options.operations {
      if options.resetEvery > 0 && step > 0 && step % options.resetEvery == 0 {
        reset()
        continue
      }
      let allocateNext =
        live.isEmpty || (live.count < options.maxLiveBlocks && random.next() % 100 < 55)
      if !allocateNext {
        deallocate(at: Int(random.next() % UInt64(live.count)))
        continue
      }
      let byteCount = random.byteCount(max: options.maxByteCount)
      let alignment = 1 << Int(random.next() % UInt64(alignmentExponents + 1))
      let quick =
        random.next() % 2 == 0
        ? layer.allocateWithoutCalls(byteCount: byteCount, alignment: alignment) : nil
      let uncleared = quick == nil && random.next() % 2 == 0
      let allocated =
        quick
        ?? (uncleared
          ? layer.allocateUncleared(byteCount: byteCount, alignment: alignment)
          : layer.allocate(byteCount: byteCount, alignment: alignment))
      guard let pointer = allocated else {
        outcome.failedAllocations += 1
        if !options.allowsFailure {
          violation("allocate(byteCount: \(byteCount), alignment: \(alignment)) returned nil")
        }
        continue
      }
      outcome.counts.allocations += 1
      outcome.counts.bytesAllocated += byteCount
      let address = UInt(bitPattern: pointer)
      if address % UInt(alignment) != 0 {
        violation("block 0x\(String(address, radix: 16)) is not aligned to \(alignment)")
      }
      let index = insertionIndex(address)
      let extent = UInt(max(byteCount, 1))
      if index > 0 {
        let before = live[index - 1]
        if before.address + UInt(max(before.byteCount, 1)) > address {
          violation(
            "block 0x\(String(address, radix: 16)) (\(byteCount) B) overlaps 0x\(String(before.address, radix: 16)) (\(before.byteCount) B)"
          )
        }
      }
      if index < live.count && address + extent > live[index].address {
        violation(
          "block 0x\(String(address, radix: 16)) (\(byteCount) B) overlaps 0x\(String(live[index].address, radix: 16)) (\(live[index].byteCount) B)"
        )
      }
      if L.returnsZeroedMemory && !uncleared, let offset = Pattern.firstNonzero(pointer, byteCount)
      {
        violation(
          "block 0x\(String(address, radix: 16)) (\(byteCount) B) from a layer that returns zeroed memory has byte \(offset) nonzero"
        )
      }
      tagCounter &+= 1
      let block = Block(
        address: address, byteCount: byteCount, alignment: alignment, tag: tagCounter)
      Pattern.write(block)
      live.insert(block, at: index)
      outcome.peakLiveBlocks = max(outcome.peakLiveBlocks, live.count)
    }
    while !live.isEmpty { deallocate(at: live.count - 1) }
    compareCounters("at the end")
    layer.reset()
    outcome.resets += 1
    return outcome
  }
}

/// The pattern written into blocks: bytes derived from the block's tag and offset.
enum Pattern {
  static let fullLimit = 4096

  static func byte(_ tag: UInt8, _ offset: Int) -> UInt8 {
    tag &+ UInt8(truncatingIfNeeded: offset &* 31)
  }

  /// Offsets written: every byte up to 4 KiB; beyond that the first and last 64 bytes and
  /// one byte per 16 KiB (so a large block costs few page faults).
  static func forEachOffset(_ byteCount: Int, _ body: (Int) -> Void) {
    if byteCount <= fullLimit {
      for offset in 0..<byteCount { body(offset) }
      return
    }
    for offset in 0..<64 { body(offset) }
    for offset in stride(from: 16384, to: byteCount - 64, by: 16384) { body(offset) }
    for offset in (byteCount - 64)..<byteCount { body(offset) }
  }

  static func write(_ block: ConformanceChecker.Block) {
    let base = UnsafeMutablePointer<UInt8>(bitPattern: block.address)!
    forEachOffset(block.byteCount) { base[$0] = byte(block.tag, $0) }
  }

  /// The first checked offset of the block at `pointer` whose byte is not zero, or nil.
  static func firstNonzero(_ pointer: UnsafeMutableRawPointer, _ byteCount: Int) -> Int? {
    let base = pointer.assumingMemoryBound(to: UInt8.self)
    var found: Int? = nil
    forEachOffset(byteCount) { offset in
      if found == nil && base[offset] != 0 { found = offset }
    }
    return found
  }

  /// Nil if intact, else where it differs.
  static func verify(_ block: ConformanceChecker.Block) -> String? {
    let base = UnsafeMutablePointer<UInt8>(bitPattern: block.address)!
    var firstBad: Int? = nil
    forEachOffset(block.byteCount) { offset in
      if firstBad == nil && base[offset] != byte(block.tag, offset) { firstBad = offset }
    }
    guard let firstBad else { return nil }
    return "byte \(firstBad) is \(base[firstBad]), expected \(byte(block.tag, firstBad))"
  }
}

/// A small, fast, seeded random generator (SplitMix64), so failures reproduce.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A size from 0 to `max`: 1 % zero; otherwise log-uniform over 1…1 KiB (85 %),
  /// 1…64 KiB (12 %) or 1…`max` (3 %), so small sizes dominate as in real programs and every
  /// power of two up to `max` occurs.
  public mutating func byteCount(max: Int) -> Int {
    let roll = next() % 100
    if roll == 0 { return 0 }
    let cap = roll < 86 ? Swift.min(max, 1 << 10) : roll < 98 ? Swift.min(max, 1 << 16) : max
    let maxExponent = Int.bitWidth - 1 - cap.leadingZeroBitCount
    let exponent = Int(next() % UInt64(maxExponent + 1))
    let low = 1 << exponent
    let high = Swift.min(cap, (low << 1) - 1)
    return low + Int(next() % UInt64(high - low + 1))
  }
}
