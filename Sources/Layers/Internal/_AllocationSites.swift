public import RegionMacrosSupport

/// Where blocks come from: for every live block, the allocation site (the call stack that
/// allocated it) and when; for every site, DHAT's figures (total, maximum live, live at the
/// global peak, live now, total lifetime). Used by ``Profile`` and ``Check``.
///
/// All storage comes from the parent layer, never from malloc: the site records (a fixed
/// number of frame words each), a hash index over them and a hash table of live blocks, each
/// grown by doubling. Frames are captured by a frame-pointer walk (`regions_capture_frames`)
/// that does not allocate. When the parent cannot supply room, the block is served but not
/// recorded (`unrecordedBlocks`).
@usableFromInline
internal struct _AllocationSites {
  // A site record: `_headerWords` words of figures, then `frameCapacity` frame words.
  @usableFromInline static let _headerWords = 12
  @usableFromInline static let _hash = 0
  @usableFromInline static let _frameCount = 1
  @usableFromInline static let _totalBytes = 2
  @usableFromInline static let _totalBlocks = 3
  @usableFromInline static let _totalLifetime = 4
  @usableFromInline static let _liveBytes = 5
  @usableFromInline static let _liveBlocks = 6
  @usableFromInline static let _maxBytes = 7
  @usableFromInline static let _maxBlocks = 8
  @usableFromInline static let _peakBytes = 9
  @usableFromInline static let _peakBlocks = 10

  /// A live block: its address, its size as the program asked for it, its site and when it was
  /// allocated (ns).
  @usableFromInline
  internal struct Block {
    @usableFromInline var address: UInt
    @usableFromInline var byteCount: Int
    @usableFromInline var site: Int
    @usableFromInline var time: UInt64

    @inlinable
    init(address: UInt, byteCount: Int, site: Int, time: UInt64) {
      self.address = address
      self.byteCount = byteCount
      self.site = site
      self.time = time
    }
  }

  /// Frames kept per site: what the layer shows, plus `machineryAllowance` for the frames of
  /// the allocation machinery above the program's.
  @usableFromInline let frameCapacity: Int
  /// Frames captured beyond what a layer shows: in hook mode the Swift runtime's object
  /// allocation above the program's frames (`swift_slowAlloc`, `swift_allocObject`), in
  /// explicit mode the layers' own frames (more in debug builds, where nothing is inlined).
  @usableFromInline static let machineryAllowance = 6
  /// Frames skipped at the top of each capture (the layer's own).
  @usableFromInline let skippedFrames: Int
  /// Whether blocks' lifetimes are kept (two clock reads per block).
  @usableFromInline let isTimed: Bool

  /// Site records; record 0 is the scratch space a capture is made in.
  @usableFromInline var _records: UnsafeMutablePointer<UInt>? = nil
  @usableFromInline var _recordCapacity = 0
  /// Sites recorded (records 1 … siteCount).
  @usableFromInline var _siteCount = 0
  /// Hash index: record numbers (0 = empty), capacity a power of two, load ≤ ½.
  @usableFromInline var _index: UnsafeMutablePointer<Int32>? = nil
  @usableFromInline var _indexCapacity = 0
  @usableFromInline var _blocks: UnsafeMutablePointer<Block>? = nil
  @usableFromInline var _blockCapacity = 0
  @usableFromInline var _blockCount = 0

  // Whole-program figures.
  @usableFromInline var totalBytes = 0
  @usableFromInline var totalBlocks = 0
  @usableFromInline var liveBytes = 0
  @usableFromInline var liveBlocks = 0
  @usableFromInline var peakLiveBytes = 0
  @usableFromInline var peakLiveBlocks = 0
  /// When the global peak was reached (ns since `start`).
  @usableFromInline var peakTime: UInt64 = 0
  /// The sites' live figures have not been copied to their at-peak figures since the last
  /// new peak (they are copied before the first decrease after it).
  @usableFromInline var _peakPending = false
  @usableFromInline var unrecordedBlocks = 0
  @usableFromInline var start: UInt64 = 0

  @inlinable
  init(frames: Int, skipping skipped: Int, timed: Bool = true) {
    precondition(frames >= 1 && frames <= 80, "Regions: a site keeps 1...80 frames")
    frameCapacity = frames
    skippedFrames = skipped
    isTimed = timed
  }

  @inlinable var _recordWords: Int { Self._headerWords &+ frameCapacity }

  @inlinable @inline(__always)
  func _record(_ number: Int) -> UnsafeMutablePointer<UInt> {
    _records.unsafelyUnwrapped + number &* _recordWords
  }

  /// Sites recorded so far.
  @inlinable var siteCount: Int { _siteCount }

  // MARK: Recording

  /// Records a block `pointer` of `byteCount` bytes (the program's) just allocated.
  @inlinable
  mutating func recordAllocation<Parent: Layer>(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, parent: inout Parent
  ) {
    if _slowPath(isTimed && start == 0) { start = regions_monotonic_nanoseconds() }
    guard _reserveRoom(parent: &parent) else {
      unrecordedBlocks &+= 1
      return
    }
    let site = _captureSite(parent: &parent)
    guard site > 0 else {
      unrecordedBlocks &+= 1
      return
    }
    let now = isTimed ? regions_monotonic_nanoseconds() &- start : 0
    _insertBlock(
      Block(address: UInt(bitPattern: pointer), byteCount: byteCount, site: site, time: now))
    let record = _record(site)
    record[Self._totalBytes] &+= UInt(byteCount)
    record[Self._totalBlocks] &+= 1
    record[Self._liveBytes] &+= UInt(byteCount)
    record[Self._liveBlocks] &+= 1
    if record[Self._liveBytes] > record[Self._maxBytes] {
      record[Self._maxBytes] = record[Self._liveBytes]
      record[Self._maxBlocks] = record[Self._liveBlocks]
    }
    totalBytes &+= byteCount
    totalBlocks &+= 1
    liveBytes &+= byteCount
    liveBlocks &+= 1
    if liveBytes > peakLiveBytes {
      peakLiveBytes = liveBytes
      peakLiveBlocks = liveBlocks
      peakTime = now
      _peakPending = true
    }
  }

  /// Records the deallocation of `pointer`; returns its block, or nil if it was not recorded.
  @inlinable
  @discardableResult
  mutating func recordDeallocation(_ pointer: UnsafeMutableRawPointer) -> Block? {
    guard let block = _removeBlock(UInt(bitPattern: pointer)) else { return nil }
    if _peakPending { _copyLiveToPeak() }
    let now = isTimed ? regions_monotonic_nanoseconds() &- start : 0
    let record = _record(block.site)
    record[Self._liveBytes] &-= UInt(block.byteCount)
    record[Self._liveBlocks] &-= 1
    record[Self._totalLifetime] &+= UInt(truncatingIfNeeded: now &- block.time)
    liveBytes &-= block.byteCount
    liveBlocks &-= 1
    return block
  }

  /// The at-peak figures of every site: its live ones now (no decrease since the peak).
  @inlinable @inline(never)
  mutating func _copyLiveToPeak() {
    _peakPending = false
    guard _siteCount > 0 else { return }
    for number in 1..._siteCount {
      let record = _record(number)
      record[Self._peakBytes] = record[Self._liveBytes]
      record[Self._peakBlocks] = record[Self._liveBlocks]
    }
  }

  /// The site of the calling code: its record number, a new record if the call stack is new;
  /// 0 when there is no room. Requires room for one more site (`_reserveRoom`).
  @inlinable @inline(__always)
  mutating func _captureSite<Parent: Layer>(parent: inout Parent) -> Int {
    let scratch = _record(0)
    let frames = UnsafeMutableRawPointer(scratch + Self._headerWords)
      .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    // In hook mode the walk starts at malloc's caller: only the Swift runtime's two object
    // allocation frames lie above the program's (distinct sites beyond what is shown would
    // only split one site into many).
    let isServing = regions_thread_context().unsafelyUnwrapped.pointee.state != nil
    let capacity = frameCapacity - (isServing ? Self.machineryAllowance - 2 : 0)
    let count = Int(regions_capture_frames(frames, Int32(capacity), Int32(skippedFrames)))
    var hash: UInt = 0xcbf2_9ce4_8422_2325 ^ UInt(count)
    for index in 0..<count {
      hash = (hash ^ scratch[Self._headerWords &+ index]) &* 0x100_0000_01b3
    }
    hash |= 1  // never 0: an empty record
    let mask = _indexCapacity &- 1
    var slot = Int(truncatingIfNeeded: hash >> 7) & mask
    let index = _index.unsafelyUnwrapped
    while index[slot] != 0 {
      let record = _record(Int(index[slot]))
      if record[Self._hash] == hash && record[Self._frameCount] == UInt(count)
        && _framesEqual(record, scratch, count)
      {
        return Int(index[slot])
      }
      slot = (slot &+ 1) & mask
    }
    _siteCount &+= 1
    let record = _record(_siteCount)
    record.update(repeating: 0, count: _recordWords)
    record[Self._hash] = hash
    record[Self._frameCount] = UInt(count)
    (record + Self._headerWords).update(from: scratch + Self._headerWords, count: count)
    index[slot] = Int32(truncatingIfNeeded: _siteCount)
    return _siteCount
  }

  @inlinable @inline(__always)
  func _framesEqual(_ a: UnsafeMutablePointer<UInt>, _ b: UnsafeMutablePointer<UInt>, _ count: Int)
    -> Bool
  {
    for index in Self._headerWords..<(Self._headerWords &+ count) where a[index] != b[index] {
      return false
    }
    return true
  }

  // MARK: Reading (reports: may allocate)

  /// A site's figures and frames, for reports.
  struct Site {
    var totalBytes: Int
    var totalBlocks: Int
    var totalLifetime: UInt64
    var maxBytes: Int
    var maxBlocks: Int
    var peakBytes: Int
    var peakBlocks: Int
    var liveBytes: Int
    var liveBlocks: Int
    var frames: [UInt]
  }

  /// Every site, in the order they were first seen (record numbers 1…).
  func sites() -> [Site] {
    guard _siteCount > 0 else { return [] }
    return (1..._siteCount).map { number in
      let record = _record(number)
      let count = Int(record[Self._frameCount])
      return Site(
        totalBytes: Int(record[Self._totalBytes]), totalBlocks: Int(record[Self._totalBlocks]),
        totalLifetime: UInt64(record[Self._totalLifetime]),
        maxBytes: Int(record[Self._maxBytes]), maxBlocks: Int(record[Self._maxBlocks]),
        peakBytes: Int(record[Self._peakBytes]), peakBlocks: Int(record[Self._peakBlocks]),
        liveBytes: Int(record[Self._liveBytes]), liveBlocks: Int(record[Self._liveBlocks]),
        frames: (0..<count).map { record[Self._headerWords + $0] })
    }
  }

  /// The frames of site `number`.
  func frames(ofSite number: Int) -> [UInt] {
    let record = _record(number)
    return (0..<Int(record[Self._frameCount])).map { record[Self._headerWords + $0] }
  }

  /// The sum of the lifetimes of the blocks still live, as if they were freed now (ns).
  func liveLifetime(now: UInt64) -> [Int: UInt64] {
    var lifetimes: [Int: UInt64] = [:]
    guard let blocks = _blocks else { return lifetimes }
    for slot in 0..<_blockCapacity where blocks[slot].address != 0 {
      lifetimes[blocks[slot].site, default: 0] += now &- blocks[slot].time
    }
    return lifetimes
  }
}

/// The bytes the program asked for, for a block of `byteCount` bytes aligned to `alignment` a
/// layer is asked for: in hook mode (the runtime is calling the stack on this thread for a
/// program's allocation) the size the program passed, which the runtime leaves in the thread's
/// context; otherwise (explicit mode, or a layer's own request for its tables) `byteCount`.
/// Read it before calling the parent, which may serve a region out meanwhile.
@inlinable @inline(__always)
package func _programByteCount(_ byteCount: Int, alignment: Int) -> Int {
  let thread = regions_thread_context().unsafelyUnwrapped
  guard thread.pointee.state != nil else { return byteCount }
  let asked = thread.pointee.serving_byte_count
  // The runtime asks for its header (the alignment, at least 16) and at least 8 bytes more.
  let isTheProgramsRequest =
    asked <= Int.max / 2 && byteCount == Swift.max(16, alignment) &+ Swift.max(asked, 8)
  return isTheProgramsRequest ? asked : byteCount
}
