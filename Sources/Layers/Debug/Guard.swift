/// Catches buffer overflows, underflows, double frees and writes after free, and stops the
/// program with a report naming the block: its address, size and alignment, the offset,
/// address and value of the first byte found changed, and the value expected there.
///
/// ```swift
/// var stack = Guard { ProcessAllocator() }                         // canaries and a quarantine
/// var paged = Guard(.pages, quarantineBlocks: 64) { Mmap() }  // faults at once
/// ```
///
/// With ``Protection/canaries`` (the default) each block gets canary bytes before it (16
/// bytes, or the alignment if larger) and after it (16 to 31 bytes), checked when the block
/// is deallocated. A freed block is filled with poison (`0xDD`), marked freed (so a second
/// free is caught) and held in a first-in, first-out *quarantine*, bounded by a count and a
/// byte budget, before it goes back to the parent: a write after free then shows as changed
/// poison when the block leaves the quarantine, or at `reset`.
///
/// With ``Protection/pages`` each block gets pages of its own, placed so that it ends where
/// its last page ends (less the padding its alignment needs, filled with canaries), between
/// two inaccessible guard pages: an access past the end or before the start faults at
/// once. Freed blocks' pages are made inaccessible while quarantined, so a use after free
/// faults at once too (and so does a double free).
///
/// - Complexity: O(`byteCount` + alignment) per allocate and deallocate (filling and
///   checking); with pages, two `mprotect` calls per allocate and one per deallocate, and one
///   more when a block leaves the quarantine.
/// - Memory: canaries: 32 to 47 bytes per block (more with large alignments); pages: two
///   guard pages per block and its size rounded up to pages. Quarantined blocks stay held;
///   the quarantine's ring (16 bytes per entry) comes from the parent.
/// - Failure: a nil from the parent is passed up. If the parent refuses room for the ring,
///   freed blocks are checked and given back at once. With ``Protection/pages``, a
///   protection the kernel refuses (past its limit on mappings, `vm.max_map_count`: each
///   guarded block costs up to three) fails the allocation, or skips the quarantine for a
///   freed block, and is counted in ``refusedProtections``.
/// - Bad input: corruption stops the program with the report above; a `byteCount` or
///   `alignment` at deallocate other than the allocation's reads as corrupted canaries.
///   Bad requests stop it with a message (see ``AllocationRequest``).
/// - Threads: not thread-safe (wrap it in ``Locked``).
public struct Guard<Parent: Layer>: WrappingLayer {
  /// How Guard watches over blocks.
  public enum Protection: Sendable {
    /// Canary bytes around each block, checked at deallocate; poisoned freed blocks.
    case canaries
    /// Pages of its own for each block, between inaccessible guard pages.
    case pages
  }

  /// The layer blocks (with their canaries or guard pages) come from.
  public var parent: Parent
  /// How blocks are watched.
  public let protection: Protection
  /// Most freed blocks held in quarantine at once (0: none).
  public let quarantineBlocks: Int
  /// Most bytes held in quarantine at once (counting canaries and guard pages).
  public let quarantineBytes: Int
  @usableFromInline internal var _quarantine = _Quarantine()
  @usableFromInline internal var _verifiedBlocks = 0
  @usableFromInline internal var _refusedProtections = 0

  /// Freed blocks waiting in quarantine.
  public var quarantinedBlocks: Int { _quarantine.count }
  /// Bytes (with canaries or guard pages) waiting in quarantine.
  public var quarantinedBytes: Int { _quarantine.bytes }
  /// Freed blocks found intact when they left the quarantine so far (survives `reset`).
  public var verifiedBlocks: Int { _verifiedBlocks }
  /// Page protections the kernel refused so far (``Protection/pages``): each failed an
  /// allocation, or sent a freed block back without quarantine. Survives `reset`.
  public var refusedProtections: Int { _refusedProtections }

  /// A layer that guards the blocks of `parent`.
  ///
  /// - Parameters:
  ///   - protection: canaries (the default) or guard pages.
  ///   - quarantineBlocks: most freed blocks held back at once; 0 gives them back at once.
  ///   - quarantineBytes: most bytes held back at once.
  ///   - parent: the stack below, whose blocks Guard guards.
  /// - Precondition: both limits are non-negative.
  @inlinable
  public init(
    _ protection: Protection = .canaries, quarantineBlocks: Int = 1024,
    quarantineBytes: Int = 16 << 20, @LayerBuilder parent: () -> Parent
  ) {
    if !(quarantineBlocks >= 0 && quarantineBytes >= 0) {
      AllocationRequest.stop("Regions: Guard's quarantine limits must not be negative")
    }
    self.protection = protection
    self.quarantineBlocks = quarantineBlocks
    self.quarantineBytes = quarantineBytes
    self.parent = parent()
  }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let extent = _extent(byteCount: byteCount, alignment: alignment)
    guard let base = parent.allocate(byteCount: extent.total, alignment: extent.alignment)
    else { return nil }
    if protection == .canaries {
      return _armCanaries(base, byteCount: byteCount, alignment: alignment)
    }
    if let block = _armPages(base, extent, byteCount: byteCount, alignment: alignment) {
      return block
    }
    return _refused(base, extent)
  }

  /// A block whose guard pages the kernel refused: back to the parent, and the request fails.
  @inlinable @inline(never)
  internal mutating func _refused(_ base: UnsafeMutableRawPointer, _ extent: _GuardExtent)
    -> UnsafeMutableRawPointer?
  {
    _refusedProtections += 1
    parent.deallocate(base, byteCount: extent.total, alignment: extent.alignment)
    return nil
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    let entry = _Quarantine.Entry(
      address: UInt(bitPattern: pointer), byteCount: byteCount, alignment: alignment)
    if protection == .canaries {
      _checkAndPoison(pointer, byteCount: byteCount, alignment: alignment)
    } else if !_checkAndProtect(pointer, byteCount: byteCount, alignment: alignment) {
      // The kernel refused to protect the freed pages: no quarantine for this block.
      _refusedProtections += 1
      _verifyAndRelease(entry)
      return
    }
    let bytes = _extent(byteCount: byteCount, alignment: alignment).total
    while _quarantine.count > 0 && _quarantine.count >= quarantineBlocks { _releaseOldest() }
    guard _quarantine.push(entry, bytes: bytes, capacity: quarantineBlocks, parent: &parent)
    else {
      _verifyAndRelease(entry)
      return
    }
    while _quarantine.count > 0 && _quarantine.bytes > quarantineBytes { _releaseOldest() }
  }

  @inlinable
  internal mutating func _releaseOldest() {
    let protection = protection
    let entry = _quarantine.popOldest { entry in
      Self._extent(protection, byteCount: entry.byteCount, alignment: entry.alignment).total
    }
    _verifyAndRelease(entry)
  }

  /// Checks every quarantined block and gives it back, gives the ring back, then resets
  /// the parent. Live blocks are the parent's business (put ``Check`` under Guard to find
  /// leaks).
  @inlinable
  public mutating func reset() {
    while _quarantine.count > 0 { _releaseOldest() }
    _quarantine.release(parent: &parent)
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    let mode = protection == .canaries ? "canaries" : "guard pages"
    lines.append(
      "Guard(\(mode)): \(quarantinedBlocks) blocks (\(quarantinedBytes) bytes) in quarantine, \(verifiedBlocks) verified after free"
        + (refusedProtections > 0
          ? ", \(refusedProtections) protections refused by the kernel" : "")
    )
    parent.appendReport(to: &lines)
  }
}
