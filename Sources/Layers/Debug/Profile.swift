/// Records where every block comes from and writes a heap profile when the stack is reset: a
/// DHAT file for valgrind's viewer, and a flame graph beside it.
///
/// For each block the layer records the allocation's call stack (`frames` return addresses, by
/// a frame-pointer walk that does not allocate) and aggregates per allocation site, as valgrind's
/// DHAT does: total blocks and bytes, the most live at once, live at the global peak, live at
/// the end, and total lifetime. At `reset` (in a region: the end of `Region.enter`) it writes
///
/// - `path`: a DHAT file (`dhatFileVersion` 2) that valgrind's viewer, `dh_view.html`, opens
///   (Debian: `/usr/libexec/valgrind/dh_view.html`, "Load…"); Swift names demangled, file and
///   line where the binary has debug information (through `addr2line`, when installed);
/// - `path` with the extension `.svg`: a self-contained flame graph of bytes by call stack.
///
/// Then it forgets the sites, gives its tables back and resets the parent. Blocks still live at
/// the reset count as live at the end. Time is in nanoseconds since the first allocation.
///
/// - Table: per site `12 + frames` words; per live block 32 bytes (load ≤ ½); all from the
///   parent, never from malloc.
/// - Complexity: allocate is the frame walk (O(frames)), a hash of the frames and two table
///   insertions, plus two clock reads; deallocate a table removal and a clock read; `reset`
///   writes the files (O(sites × frames), symbolization included).
/// - Failure: returns nil when the parent does. When the parent cannot supply room for the
///   tables, the block is served but not recorded (`unrecordedBlocks`).
/// - In hook mode the sizes are the program's (the runtime's block header taken off; requests
///   under 8 bytes count as 8).
public struct Profile<Parent: Layer>: WrappingLayer {
  public var parent: Parent
  /// Where the DHAT file goes (the flame graph goes beside it, with the extension `.svg`).
  public let path: String
  /// Frames of the program's code kept per site.
  public let frames: Int
  @usableFromInline internal var _sites: _AllocationSites
  @usableFromInline internal var _profilesWritten = 0

  /// A layer that profiles the allocations passed to `parent`.
  ///
  /// - Parameters:
  ///   - path: the DHAT file to write at each reset (replaced if it exists).
  ///   - frames: return addresses kept per allocation site, 1…64 (8 by default).
  ///   - parent: the stack below, whose allocations Profile records.
  @inlinable
  public init(writingTo path: String, frames: Int = 8, @LayerBuilder parent: () -> Parent) {
    precondition((1...64).contains(frames), "Regions: Profile keeps 1...64 frames, not \(frames)")
    self.path = path
    self.frames = frames
    // The walk starts in the layer's own code: keep a few more, the machinery is dropped later.
    self._sites = _AllocationSites(
      frames: frames + _AllocationSites.machineryAllowance, skipping: 0)
    self.parent = parent()
  }

  /// Allocation sites recorded since the last reset.
  public var sites: Int { _sites.siteCount }
  /// Blocks recorded since the last reset.
  public var totalBlocks: Int { _sites.totalBlocks }
  /// Bytes recorded since the last reset (the program's).
  public var totalBytes: Int { _sites.totalBytes }
  /// The most bytes live at once since the last reset.
  public var peakLiveBytes: Int { _sites.peakLiveBytes }
  /// Blocks served without a record because the parent had no room for the tables.
  public var unrecordedBlocks: Int { _sites.unrecordedBlocks }
  /// Where the flame graph goes: `path` with the extension `.svg`.
  public var flameGraphPath: String { _ProfileWriter.flameGraphPath(for: path) }
  /// Profiles written so far (survives `reset`).
  public var profilesWritten: Int { _profilesWritten }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let programBytes = _programByteCount(byteCount, alignment: alignment)
    guard let pointer = parent.allocateUncleared(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    _sites.recordAllocation(pointer, byteCount: programBytes, parent: &parent)
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _sites.recordDeallocation(pointer)
    parent.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// Writes the profile (when anything was allocated), forgets it, then resets the parent.
  @inlinable
  public mutating func reset() {
    if _sites.totalBlocks > 0 { _writeProfile() }
    _sites.release(parent: &parent)
    parent.reset()
  }

  /// Writes the DHAT file and the flame graph. Out of line: it builds strings and symbolizes,
  /// which a layer may do only at a reset, never on the allocation path.
  @inlinable @inline(never)
  internal mutating func _writeProfile() {
    _profilesWritten += 1
    _ProfileWriter(sites: _sites, path: path, frames: frames).write()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Profile: \(_sites.totalBlocks) blocks (\(_sites.totalBytes) bytes) from \(_sites.siteCount) sites, peak \(_sites.peakLiveBytes) bytes live; writing \(path)"
    )
    parent.appendReport(to: &lines)
  }

  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(
      to: &objects,
      [
        "sites": sites, "totalBlocks": totalBlocks, "totalBytes": totalBytes,
        "peakLiveBytes": peakLiveBytes, "unrecordedBlocks": unrecordedBlocks,
        "profilesWritten": profilesWritten,
      ])
  }
}
