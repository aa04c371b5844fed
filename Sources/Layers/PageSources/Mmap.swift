/// A source layer that takes whole pages from the OS with `mmap` and gives them back with
/// `munmap`.
///
/// Sizes are rounded up to the page size (4 KiB here), so use it under a layer that carves
/// pages into blocks (``Chunk``, ``Batch``); on its own it suits large blocks.
///
/// - Alignment: any power of two. Alignments above the page size are met by over-mapping
///   and trimming the excess, so a 1 MiB-aligned block briefly maps 1 MiB more.
/// - Complexity: one system call per allocate and per deallocate (two or three when the
///   alignment exceeds the page size).
/// - Failure: returns nil when the OS refuses (ENOMEM, address space exhausted).
/// - Bad input: a negative `byteCount`, an alignment that is not a power of two, or a size
///   that overflows when rounded stops the program with a message. `byteCount` 0 maps one
///   page.
/// - Memory comes back zeroed from `allocate`. Under a region, pages a closed region gave
///   back are reused and cleared with `memset`; ``allocateUncleared(byteCount:alignment:)``
///   (what carving layers and the region's `malloc` call) skips the clearing.
public struct Mmap: Layer {
  /// Bytes currently mapped by this layer (page-rounded). Survives `reset`.
  public private(set) var mappedBytes = 0
  /// Mappings made so far.
  public private(set) var mappings = 0

  /// A layer that maps pages from the OS.
  public init() {}

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _map(byteCount: byteCount, alignment: alignment, cleared: true)
  }

  /// Pages as `allocate` maps them, except that pages a region reuses are not cleared first.
  @inlinable
  public mutating func allocateUncleared(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    return _map(byteCount: byteCount, alignment: alignment, cleared: false)
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    let size = Self._rounded(byteCount)
    _Pages.unmap(pointer, byteCount: size)
    _recordUnmap(size)
  }

  /// True: every block `allocate` returns is a fresh mapping, zero-filled by the OS, or
  /// reused pages cleared first.
  public static var returnsZeroedMemory: Bool { true }

  /// Mmap holds nothing of its own: blocks it handed out are the caller's to give back.
  @inlinable
  public mutating func reset() {}

  public func appendReport(to lines: inout [String]) {
    lines.append("Mmap: \(mappedBytes) bytes mapped, \(mappings) mappings so far")
  }

  public func appendReportObjects(to objects: inout [String]) {
    objects.append(
      _reportObject(
        Self.self, report: _ownReportLine,
        ["mappedBytes": mappedBytes, "mappings": mappings]))
  }

  @inlinable @inline(__always)
  mutating func _map(byteCount: Int, alignment: Int, cleared: Bool) -> UnsafeMutableRawPointer? {
    let size = Self._rounded(byteCount)
    guard let pointer = _Pages.map(byteCount: size, alignment: alignment, cleared: cleared)
    else { return nil }
    _recordMap(size)
    return pointer
  }

  @inlinable @inline(__always)
  static func _rounded(_ byteCount: Int) -> Int {
    AllocationRequest.roundUp(Swift.max(byteCount, 1), to: _Pages.size)
  }

  @usableFromInline
  mutating func _recordMap(_ size: Int) {
    mappedBytes += size
    mappings += 1
  }

  @usableFromInline
  mutating func _recordUnmap(_ size: Int) {
    mappedBytes -= size
  }
}
