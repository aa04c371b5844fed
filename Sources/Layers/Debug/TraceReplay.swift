/// One line of a trace written by ``Trace``: an allocate, a deallocate or a reset.
public enum TraceRecord: Equatable, Sendable {
  /// `a <byteCount> <alignment> <address>`; `address` 0 when the request was refused.
  case allocate(byteCount: Int, alignment: Int, address: UInt)
  /// `d <address> <byteCount> <alignment>`.
  case deallocate(address: UInt, byteCount: Int, alignment: Int)
  /// `r`.
  case reset

  /// The record's line in the trace format (without the newline).
  public var line: String {
    func hex(_ address: UInt) -> String { address == 0 ? "0" : "0x" + String(address, radix: 16) }
    switch self {
    case .allocate(let byteCount, let alignment, let address):
      return "a \(byteCount) \(alignment) \(hex(address))"
    case .deallocate(let address, let byteCount, let alignment):
      return "d \(hex(address)) \(byteCount) \(alignment)"
    case .reset:
      return "r"
    }
  }

  /// Parses a whole trace; comments and empty lines are skipped.
  ///
  /// - Throws: ``TraceFormatError`` naming the first line that is not in the format.
  public static func parse(_ text: String) throws(TraceFormatError) -> [TraceRecord] {
    var records: [TraceRecord] = []
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard let record = TraceRecord(line: line) else {
        throw TraceFormatError(lineNumber: lineNumber, line: String(line))
      }
      records.append(record)
    }
    return records
  }

  /// Parses one line; nil if it is not in the format.
  public init?(line: Substring) {
    let fields = line.split(separator: " ")
    func number(_ index: Int) -> Int? { Int(fields[index]) }
    func address(_ index: Int) -> UInt? {
      let field = fields[index]
      if field == "0" { return 0 }
      guard field.hasPrefix("0x") else { return nil }
      return UInt(field.dropFirst(2), radix: 16)
    }
    switch (fields.first, fields.count) {
    case ("a", 4):
      guard let byteCount = number(1), let alignment = number(2), let result = address(3)
      else { return nil }
      self = .allocate(byteCount: byteCount, alignment: alignment, address: result)
    case ("d", 4):
      guard let pointer = address(1), let byteCount = number(2), let alignment = number(3)
      else { return nil }
      self = .deallocate(address: pointer, byteCount: byteCount, alignment: alignment)
    case ("r", 1):
      self = .reset
    default:
      return nil
    }
  }
}

/// A line of a trace that is not in the format ``Trace`` writes.
public struct TraceFormatError: Error, CustomStringConvertible {
  /// The line's number, from 1.
  public var lineNumber: Int
  /// The line.
  public var line: String

  public var description: String { "line \(lineNumber) is not a trace record: \(line)" }
}

/// Re-runs a recorded trace against a stack, so that stacks can be compared on a program's
/// real traffic (the `tracereplay` tool is built on it).
///
/// Every allocate in the trace is asked of the stack (also those the traced stack refused);
/// every deallocate goes to the block the replay got for the same traced address. Blocks the
/// trace never deallocates are deallocated by the replay before each reset and at the end,
/// so that every stack (also one whose reset takes nothing back) sees the same live blocks
/// and ends empty. Nothing is written into the blocks.
public enum TraceReplay {
  /// What a replay did.
  public struct Outcome: Equatable, Sendable {
    /// Allocations the stack served.
    public var allocations = 0
    /// Allocations the stack refused (returned nil).
    public var failedAllocations = 0
    /// Deallocations replayed (not counting those at the end).
    public var deallocations = 0
    /// Deallocations skipped: their block was refused in the replay, or allocated before the
    /// trace began.
    public var unmatchedDeallocations = 0
    /// Resets replayed.
    public var resets = 0
    /// Blocks the trace never deallocated (live at a reset or at the end), which the replay
    /// deallocated.
    public var freedByReplay = 0
    /// The most bytes live at once, as requested.
    public var peakLiveBytes = 0

    /// An outcome with every count at zero.
    public init() {}
  }

  /// Replays `records` against `stack`.
  ///
  /// Not on an allocation path: it allocates (a dictionary of live blocks).
  public static func run<L: Layer>(_ records: [TraceRecord], on stack: inout L) -> Outcome {
    var outcome = Outcome()
    var live: [UInt: (pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int)] = [:]
    var liveBytes = 0
    for record in records {
      switch record {
      case .allocate(let byteCount, let alignment, let address):
        guard let pointer = stack.allocate(byteCount: byteCount, alignment: alignment) else {
          outcome.failedAllocations += 1
          continue
        }
        outcome.allocations += 1
        // A refused traced request has no address of its own to be freed by: keep it
        // under a key no real address takes, until the end.
        let key = address != 0 ? address : UInt.max - UInt(outcome.allocations)
        if let stale = live.updateValue((pointer, byteCount, alignment), forKey: key) {
          stack.deallocate(stale.pointer, byteCount: stale.byteCount, alignment: stale.alignment)
          liveBytes -= stale.byteCount
        }
        liveBytes += byteCount
        outcome.peakLiveBytes = max(outcome.peakLiveBytes, liveBytes)
      case .deallocate(let address, _, _):
        guard let block = live.removeValue(forKey: address) else {
          outcome.unmatchedDeallocations += 1
          continue
        }
        stack.deallocate(block.pointer, byteCount: block.byteCount, alignment: block.alignment)
        liveBytes -= block.byteCount
        outcome.deallocations += 1
      case .reset:
        outcome.freedByReplay += freeAll(&live, stack: &stack)
        liveBytes = 0
        stack.reset()
        outcome.resets += 1
      }
    }
    outcome.freedByReplay += freeAll(&live, stack: &stack)
    return outcome
  }

  static func freeAll<L: Layer>(
    _ live: inout [UInt: (pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int)],
    stack: inout L
  ) -> Int {
    let count = live.count
    for block in live.values {
      stack.deallocate(block.pointer, byteCount: block.byteCount, alignment: block.alignment)
    }
    live.removeAll()
    return count
  }
}
