/// A bump allocator: carves blocks out of chunks it gets from its parent.
///
/// `allocate` rounds the cursor up to the alignment and advances it; `deallocate` does no
/// work (except that freeing the most recent block rolls the cursor back); `reset` gives
/// every chunk back to the parent. Use it for arenas: many blocks that die together.
///
/// ```swift
/// var arena = Chunk(64 * 1024) { Mmap() }
/// ```
///
/// - Chunks: each chunk is `chunkSize` bytes and starts with a 32-byte header that links
///   it into the chunk list. A request that does not fit a chunk (after the header and
///   alignment padding) gets a dedicated chunk of its own, and the current chunk stays.
/// - Complexity: O(1) allocate (a handful of instructions on the fast path); O(1)
///   deallocate; `reset` O(chunks).
/// - Failure: returns nil when the parent refuses a new chunk.
/// - Bad input: `chunkSize` under 64 stops the program at `init`; bad requests stop it with
///   a message (see ``AllocationRequest``). `byteCount` 0 takes one byte.
public struct Chunk<Parent: Layer>: WrappingLayer {
  public var parent: Parent
  /// The size of each chunk requested from the parent.
  public let chunkSize: Int
  @usableFromInline internal var _cursor: UInt = 0
  @usableFromInline internal var _limit: UInt = 0
  /// The newest chunk; each chunk's header links to the one before.
  @usableFromInline internal var _chunks: UnsafeMutableRawPointer? = nil
  @usableFromInline internal var _liveChunks = 0
  @usableFromInline internal var _chunkBytes = 0
  @usableFromInline internal var _chunksAllocated = 0

  /// Chunks currently held from the parent.
  public var liveChunks: Int { _liveChunks }
  /// Bytes currently held from the parent in chunks.
  public var chunkBytes: Int { _chunkBytes }
  /// Chunks requested from the parent so far (survives `reset`).
  public var chunksAllocated: Int { _chunksAllocated }

  /// A bump allocator over `parent`, asking it for `chunkSize`-byte chunks.
  ///
  /// - Precondition: `chunkSize >= 64`.
  @inlinable
  public init(_ chunkSize: Int, @LayerBuilder parent: () -> Parent) {
    if chunkSize < 64 {
      fatalError("Regions: Chunk's chunkSize must be at least 64 bytes (got \(chunkSize))")
    }
    self.chunkSize = chunkSize
    self.parent = parent()
  }

  /// Bytes at the start of every chunk: the link to the previous chunk, its size, its alignment.
  @usableFromInline static var _headerSize: Int { 32 }

  @inlinable @inline(__always)
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    if let block = allocateWithoutCalls(byteCount: byteCount, alignment: alignment) {
      return block
    }
    return _allocateInNewChunk(byteCount: Swift.max(byteCount, 1), alignment: alignment)
  }

  /// The bump: a block from the current chunk, or nil when it does not fit.
  @inlinable @inline(__always)
  public mutating func allocateWithoutCalls(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let size = UInt(Swift.max(byteCount, 1))
    let padding = (0 &- _cursor) & (UInt(alignment) &- 1)
    let remaining = _limit &- _cursor
    guard _fastPath(padding <= remaining && size <= remaining &- padding) else { return nil }
    let start = _cursor &+ padding
    _cursor = start &+ size
    return UnsafeMutableRawPointer(bitPattern: start).unsafelyUnwrapped  // past a chunk's header
  }

  // Note: `@inlinable @inline(never)`, not `@usableFromInline`: the slow path stays out of line
  // but is specialized for the client's stack, so it calls the parent directly, not through
  // a witness table.
  @inlinable @inline(never)
  internal mutating func _allocateInNewChunk(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    let offset = AllocationRequest.roundUp(Self._headerSize, to: alignment)
    let needed = AllocationRequest.add(offset, byteCount)
    let chunkAlignment = Swift.max(alignment, 16)
    if needed > chunkSize {
      // A dedicated chunk; the current chunk keeps serving small requests.
      guard let chunk = _newChunk(byteCount: needed, alignment: chunkAlignment) else { return nil }
      return chunk + offset
    }
    guard let chunk = _newChunk(byteCount: chunkSize, alignment: chunkAlignment) else { return nil }
    let start = UInt(bitPattern: chunk) &+ UInt(offset)
    _cursor = start &+ UInt(byteCount)
    _limit = UInt(bitPattern: chunk) &+ UInt(chunkSize)
    return UnsafeMutableRawPointer(bitPattern: start)
  }

  @inlinable
  internal mutating func _newChunk(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard let chunk = parent.allocateUncleared(byteCount: byteCount, alignment: alignment) else {
      return nil
    }
    chunk.storeBytes(of: _chunks, as: UnsafeMutableRawPointer?.self)
    chunk.storeBytes(of: byteCount, toByteOffset: 8, as: Int.self)
    chunk.storeBytes(of: alignment, toByteOffset: 16, as: Int.self)
    _chunks = chunk
    _liveChunks += 1
    _chunkBytes += byteCount
    _chunksAllocated += 1
    return chunk
  }

  /// Does no work, except that the most recent block's space is reused.
  @inlinable @inline(__always)
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    _ = deallocateWithoutCalls(pointer, byteCount: byteCount, alignment: alignment)
  }

  /// `deallocate`, which never calls anything.
  @inlinable @inline(__always)
  public mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool {
    let start = UInt(bitPattern: pointer)
    if start &+ UInt(Swift.max(byteCount, 1)) == _cursor { _cursor = start }
    return true
  }

  /// Gives every chunk back to the parent, then resets the parent.
  @inlinable
  public mutating func reset() {
    var chunk = _chunks
    while let current = chunk {
      chunk = current.load(as: UnsafeMutableRawPointer?.self)
      let byteCount = current.load(fromByteOffset: 8, as: Int.self)
      let alignment = current.load(fromByteOffset: 16, as: Int.self)
      parent.deallocate(current, byteCount: byteCount, alignment: alignment)
    }
    _chunks = nil
    _cursor = 0
    _limit = 0
    _liveChunks = 0
    _chunkBytes = 0
    parent.reset()
  }

  public func appendReport(to lines: inout [String]) {
    lines.append(
      "Chunk(\(chunkSize)): \(_liveChunks) chunks (\(_chunkBytes) bytes) held, \(_chunksAllocated) requested so far"
    )
    parent.appendReport(to: &lines)
  }

  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(
      to: &objects,
      [
        "chunkSize": chunkSize, "liveChunks": liveChunks, "chunkBytes": chunkBytes,
        "chunksAllocated": chunksAllocated,
      ])
  }
}
