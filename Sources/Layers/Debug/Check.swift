/// Checks every deallocation against the set of live blocks, and reports leaks at `reset`.
///
/// Deallocating a pointer Check did not hand out (a foreign pointer or a double free), or
/// with a `byteCount` or `alignment` other than the allocation's, stops the program with a
/// message naming the pointer, both sizes and the layer stack. A `reset` with live blocks
/// reports them (count, bytes, the first few addresses and sizes, and where they were
/// allocated: the top frames of the allocating call stack, per site) and, by default, stops
/// the program; `Check(onLeak: .report)` writes the report to standard error and goes on.
///
/// - Table: a hash table of live blocks (16 bytes per entry, load ≤ ½) in memory from the
///   parent, never from malloc; with sites, the sites' frames and 32 bytes per live block more.
/// - Complexity: O(1) expected allocate and deallocate, plus a frame-pointer walk of
///   `siteFrames` frames (and a few more) per allocation; `reset` O(table capacity).
/// - Failure: returns nil when the parent refuses the block or room for the table.
public struct Check<Parent: Layer>: WrappingLayer {
  /// What `reset` does when blocks are still live.
  public enum LeakPolicy: Sendable {
    /// Write the report to standard error and stop the program.
    case stop
    /// Write the report to standard error and go on; the blocks are forgotten.
    case report
  }

  public var parent: Parent
  /// What `reset` does when blocks are still live.
  public let leakPolicy: LeakPolicy
  @usableFromInline internal var _live = _BlockTable()
  @usableFromInline internal var _liveBytes = 0
  @usableFromInline internal var _leakedBlocks = 0
  @usableFromInline internal var _leakedBytes = 0
  @usableFromInline internal var _escapedBlocks = 0
  /// Frames of the allocating call stack shown per leak site (0: sites are not recorded).
  public let siteFrames: Int
  @usableFromInline internal var _sites: _AllocationSites

  /// Blocks handed out and not yet deallocated.
  public var liveBlocks: Int { _live.count }
  /// Bytes handed out and not yet deallocated.
  public var liveBytes: Int { _liveBytes }
  /// Blocks found live at resets so far (survives `reset`).
  public var leakedBlocks: Int { _leakedBlocks }
  /// Blocks found live at resets so far that a value leaving the region still reached (an
  /// error thrown out of the scope, and what it references): not leaks (survives `reset`).
  public var escapedBlocks: Int { _escapedBlocks }
  /// Bytes found live at resets so far, as the program asked for them (in hook mode, without
  /// the runtime's block headers; survives `reset`).
  public var leakedBytes: Int { _leakedBytes }

  /// A layer that checks every deallocation passed to `parent`.
  ///
  /// - Parameters:
  ///   - onLeak: what `reset` does when blocks are still live; stops by default.
  ///   - siteFrames: frames of the allocating call stack that a leak report shows per site,
  ///     0…64 (0 records no sites: the cheapest Check).
  ///   - parent: the stack below, whose blocks Check checks.
  @inlinable
  public init(
    onLeak: LeakPolicy = .stop, siteFrames: Int = 4, @LayerBuilder parent: () -> Parent
  ) {
    precondition(
      (0...64).contains(siteFrames), "Regions: Check shows 0...64 site frames, not \(siteFrames)")
    self.leakPolicy = onLeak
    self.siteFrames = siteFrames
    self._sites = _AllocationSites(
      frames: Swift.max(1, siteFrames) + _AllocationSites.machineryAllowance, skipping: 0,
      timed: false)
    self.parent = parent()
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let programBytes = siteFrames > 0 ? _programByteCount(byteCount, alignment: alignment) : 0
    guard
      let pointer = _live.allocateBooked(
        byteCount: byteCount, alignment: alignment, cleared: false, from: &parent)
    else { return nil }
    _liveBytes &+= byteCount
    if siteFrames > 0 { _sites.recordAllocation(pointer, byteCount: programBytes, parent: &parent) }
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    guard let entry = _live.remove(pointer) else { _unknownPointer(pointer, byteCount, alignment) }
    if _slowPath(entry.byteCount != byteCount || entry.alignment != alignment) {
      _mismatch(pointer, entry, byteCount, alignment)
    }
    _liveBytes &-= byteCount
    if siteFrames > 0 { _sites.recordDeallocation(pointer) }
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  @usableFromInline @inline(never)
  internal func _unknownPointer(
    _ pointer: UnsafeMutableRawPointer, _ byteCount: Int, _ alignment: Int
  ) -> Never {
    fatalError(
      "Regions: \(_layerTypeDescription(Self.self)) was asked to deallocate \(pointer) (\(byteCount) bytes, alignment \(alignment)), which is not live: a double free, or a pointer this stack did not allocate"
    )
  }

  @usableFromInline @inline(never)
  internal func _mismatch(
    _ pointer: UnsafeMutableRawPointer, _ entry: _BlockTable.Entry, _ byteCount: Int,
    _ alignment: Int
  ) -> Never {
    fatalError(
      "Regions: \(_layerTypeDescription(Self.self)) was asked to deallocate \(pointer) with \(byteCount) bytes, alignment \(alignment), but it was allocated with \(entry.byteCount) bytes, alignment \(entry.alignment)"
    )
  }

  /// Reports live blocks (stopping the program under `.stop`), gives the table back, then
  /// resets the parent.
  @inlinable
  public mutating func reset() {
    if _live.count > 0 { _reportLeaks() }
    _live.release(parent: &parent)
    _sites.release(parent: &parent)
    _liveBytes = 0
    parent.reset()
  }

  /// Writes the leak report (stopping the program under `.stop`) and counts the leaks. Out of
  /// line: it builds strings, which is allowed only when there is something to report.
  @inlinable @inline(never)
  internal mutating func _reportLeaks() {
    _forgetEscapingBlocks()
    if _live.count == 0 { return }
    let report = leakReport()
    _leakedBlocks += _live.count
    _leakedBytes += _programBytes()
    if leakPolicy == .stop { fatalError(report) }
    _writeToStandardError(report + "\n")
  }

  /// Forgets the live blocks a value leaving the region still reaches (an error thrown out of
  /// the scope): not leaks. Counted in `escapedBlocks`.
  @usableFromInline
  internal mutating func _forgetEscapingBlocks() {
    guard let reached = _blocksReachedByEscapingValues else { return }
    var extents: [_BlockExtent] = []
    _live.forEach { extents.append(_BlockExtent(address: $0.address, byteCount: $0.byteCount)) }
    guard let escaping = reached(extents) else { return }
    for (extent, escapes) in zip(extents, escaping) where escapes {
      guard let pointer = UnsafeMutableRawPointer(bitPattern: extent.address),
        _live.remove(pointer) != nil
      else { continue }
      _liveBytes &-= extent.byteCount
      _sites.recordDeallocation(pointer)
      _escapedBlocks += 1
    }
  }

  /// A description of the live blocks: their count and bytes, what they hold when that can
  /// be told (in hook mode, the Swift class of objects: `3 × MyApp.Node`), and the first few.
  /// In hook mode addresses and sizes are the program's (the pointer it holds, the size it
  /// asked for), with the runtime's header bytes given apart.
  public func leakReport(listing limit: Int = 8) -> String {
    var listed: [String] = []
    var kinds: [String: (count: Int, bytes: Int)] = [:]
    var programBytes = 0
    // Per allocation site: the live blocks and bytes, and what they hold.
    var bySite: [Int: (count: Int, bytes: Int, kinds: [String: Int])] = [:]
    var listedSites: [Int] = []
    _live.forEach { entry in
      let block = UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped
      let presented =
        _blockPresenter?(block, entry.byteCount)
        ?? _PresentedBlock(pointer: block, byteCount: entry.byteCount, kind: "block")
      programBytes += presented.byteCount
      kinds[presented.kind, default: (0, 0)].count += 1
      kinds[presented.kind, default: (0, 0)].bytes += presented.byteCount
      let site = _sites.block(at: entry.address)?.site ?? 0
      bySite[site, default: (0, 0, [:])].count += 1
      bySite[site, default: (0, 0, [:])].bytes += presented.byteCount
      bySite[site, default: (0, 0, [:])].kinds[presented.kind, default: 0] += 1
      if listed.count < limit {
        let address = "0x" + String(UInt(bitPattern: presented.pointer), radix: 16)
        listed.append(
          "    \(address): \(presented.byteCount) bytes, alignment \(entry.alignment), \(presented.kind)"
        )
        listedSites.append(site)
      }
    }
    let summary = kinds.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
      .map { "  \($0.value.count) × \($0.key) (\($0.value.bytes) bytes)" }
    let more = _live.count > limit ? "\n    … and \(_live.count - limit) more" : ""
    let overhead =
      programBytes == _liveBytes
      ? "" : "; \(_liveBytes) bytes of the stack's with the runtime's block headers"
    return
      "Regions: \(_layerTypeDescription(Self.self)) has \(_live.count) live blocks (\(programBytes) bytes\(overhead)) at reset:\n"
      + summary.joined(separator: "\n") + "\n  first blocks:\n"
      + zip(listed, listedSites).map { line, site in
        line + (site > 0 ? ", at " + _siteDescription(site, separator: " ← ") : "")
      }.joined(separator: "\n") + more + _sitesReport(bySite)
  }

  /// The leak sites, largest first: blocks, bytes, what they hold, and the top frames.
  func _sitesReport(_ bySite: [Int: (count: Int, bytes: Int, kinds: [String: Int])]) -> String {
    let sites = bySite.filter { $0.key > 0 }.sorted {
      ($0.value.bytes, $1.key) > ($1.value.bytes, $0.key)
    }
    guard !sites.isEmpty else { return "" }
    let lines = sites.prefix(8).map { site, figures in
      let held = figures.kinds.sorted { $0.value > $1.value }.map { "\($0.value) × \($0.key)" }
        .joined(separator: ", ")
      return "  \(figures.count) blocks (\(figures.bytes) bytes: \(held)) allocated at\n"
        + _siteDescription(site, separator: "\n", indent: "      ")
    }
    let unrecorded = bySite[0].map { "\n  \($0.count) blocks without a recorded site" } ?? ""
    let more = sites.count > 8 ? "\n  … and \(sites.count - 8) more sites" : ""
    return "\n  by allocation site:\n" + lines.joined(separator: "\n") + more + unrecorded
  }

  /// The top `siteFrames` program frames of site `site`.
  func _siteDescription(_ site: Int, separator: String, indent: String = "") -> String {
    let addresses = _sites.frames(ofSite: site)
    let frames = _Symbols.programFrames(
      addresses, _Symbols.frames(for: Set(addresses)), limit: siteFrames)
    return frames.map { indent + $0.function + ($0.location.map { " (\($0))" } ?? "") }
      .joined(separator: separator)
  }

  /// The bytes the program asked for in the live blocks (in explicit mode, the blocks' sizes).
  @usableFromInline
  internal func _programBytes() -> Int {
    var bytes = 0
    _live.forEach { entry in
      let block = UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped
      bytes += _blockPresenter?(block, entry.byteCount)?.byteCount ?? entry.byteCount
    }
    return bytes
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Check: \(_live.count) live blocks (\(_liveBytes) bytes), \(_leakedBlocks) leaked so far"
        + (_escapedBlocks > 0 ? ", \(_escapedBlocks) left with a thrown error" : ""))
    parent.appendReport(to: &lines)
  }

  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(
      to: &objects,
      [
        "liveBlocks": liveBlocks, "liveBytes": liveBytes, "leakedBlocks": leakedBlocks,
        "leakedBytes": leakedBytes, "escapedBlocks": escapedBlocks,
      ])
  }
}
