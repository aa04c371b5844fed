/// Gives each thread a parent instance of its own, used without locks; a block freed by
/// another thread goes back to the instance that allocated it.
///
/// ```swift
/// var stack = PerThread(slots: 8) { Stats { Chunk(65536) { Mmap() } } }
/// ```
///
/// `PerThread` keeps a table of `slots` copies of the parent you give (so give it a fresh
/// stack that holds nothing yet), plus one *shared* copy, in pages mapped at `init`. Thread
/// number *n* (threads are numbered in the order they first use any `PerThread`) claims slot
/// *n* mod `slots` the first time it allocates, and from then on uses it alone: no lock, no
/// atomic operation. A thread whose slot another thread has claimed uses the shared copy,
/// under a lock.
///
/// Every block starts with a 16-byte header (the alignment, if larger) naming the slot that
/// allocated it. A thread that frees a block of its own slot gives it straight to its
/// parent; a block of another thread's slot is pushed onto that slot's *remote free list*
/// (one compare-and-swap, no lock, no waiting), and the owner gives it to its parent on its
/// next allocation. So the producer/consumer pattern (one thread allocates, another frees)
/// costs the freeing thread one atomic operation. Why not a lock per slot: see the measured
/// figures in Docs/Layers.md.
///
/// A slot stays claimed when its thread exits: what its parent holds, and frees pushed to
/// it, come back at `reset`. A copy of a `PerThread` shares the table: it is the same
/// allocator. The table goes back to the OS when the last copy is gone (`reset` first to
/// give the parents' memory back).
///
/// - Complexity: the parent's, plus a thread-local load and two compares on the thread's own
///   slot; a free from another thread is one compare-and-swap, its parent work done later by
///   the owner. On the shared copy: a lock and an unlock per operation.
/// - Memory: the table (`slots + 1` × the parent's size rounded up to 128 bytes); 16 bytes
///   per block (the alignment, when it is larger than 16).
/// - Failure: a nil from the thread's parent is passed up (other slots are not tried).
/// - Bad input: a pointer whose header names no slot stops the program with a message;
///   other foreign pointers are not detected (put ``Check`` under it while debugging).
/// - `reset`, `forEachSlot` and reports must not run while other threads use the stack.
public struct PerThread<Parent: Layer>: Layer {
  @usableFromInline internal let _table: _SlotTable<Parent>
  @usableFromInline internal let _slots: UnsafeMutableRawPointer
  @usableFromInline internal let _slotMask: Int
  @usableFromInline internal let _slotStride: Int

  /// The number of per-thread parent instances (a power of two), not counting the shared one.
  public var slotCount: Int { _slotMask &+ 1 }

  /// A layer that gives each thread its own copy of `parent`.
  ///
  /// - Parameters:
  ///   - slots: how many per-thread parents to keep; rounded up to a power of two.
  ///   - parent: the stack each thread gets a copy of.
  /// - Precondition: `1 <= slots <= 4096`, and the OS maps the table; stops otherwise.
  public init(slots: Int = 64, @LayerBuilder parent: () -> Parent) {
    let prototype = parent()
    self.init(eachSlotOf: slots, making: { prototype })
  }

  /// A PerThread whose slots each get a parent of their own from `make` (a parsed stack's
  /// parents are handles: copies of one would share its state).
  package init(eachSlotOf slots: Int, making make: () -> Parent) {
    if !((1...4096).contains(slots)) {
      AllocationRequest.stop("Regions: PerThread needs 1 to 4096 slots (got \(slots))")
    }
    let count = 1 << (Int.bitWidth - (slots - 1).leadingZeroBitCount)
    _table = _SlotTable(slotCount: count + 1, make)
    _slots = _table.base
    _slotMask = count - 1
    _slotStride = _table.stride
  }

  /// True: each thread has a parent of its own (or the shared one, under a lock), and
  /// remote frees are lock-free.
  public static var isThreadSafe: Bool { true }

  /// Whether the parent's blocks come back zero-filled (headers lie before the block).
  public static var returnsZeroedMemory: Bool { Parent.returnsZeroedMemory }

  // Slot layout: lock (4 bytes; the shared slot's), used flag (4), owner's thread number (8),
  // remote free list head (8), then the parent. Block header, just before the block: the
  // remote-list link, then the slot index (after a remote free: byteCount << 6 |
  // log2(alignment)).

  @inlinable @inline(__always)
  internal func _parent(_ slot: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Parent> {
    (slot + _SlotTable<Parent>.parentOffset).assumingMemoryBound(to: Parent.self)
  }

  @inlinable @inline(__always)
  internal func _slot(_ index: Int) -> UnsafeMutableRawPointer { _slots + index &* _slotStride }

  @inlinable
  public mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let header = Swift.max(16, alignment)
    let total = AllocationRequest.add(byteCount, header)
    let number = UInt(bitPattern: _Thread.number)
    let index = Int(bitPattern: number) & _slotMask
    let slot = _slot(index)
    guard _fastPath(_AtomicWord.load(slot + 8) == number) else {
      return _allocateUnowned(slot, index, number, total, header)
    }
    if _slowPath(_AtomicWord.load(slot + 16) != 0) { _drainRemoteFrees(slot) }
    guard let base = _parent(slot).pointee.allocate(byteCount: total, alignment: header) else {
      return nil
    }
    let pointer = base + header
    pointer.storeBytes(of: UInt(index), toByteOffset: -8, as: UInt.self)
    return pointer
  }

  /// The parent's inline path on the thread's own slot; nil when the thread has no slot of
  /// its own yet, when its slot has remote frees to take back, or when the parent's inline path
  /// has no block.
  @inlinable @inline(__always)
  public mutating func allocateWithoutCalls(byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer?
  {
    AllocationRequest.validate(byteCount: byteCount, alignment: alignment)
    let number = UInt(bitPattern: _Thread.numberIfKnown)
    let index = Int(bitPattern: number) & _slotMask
    let slot = _slot(index)
    guard _fastPath(number != 0 && _AtomicWord.load(slot + 8) == number),
      _fastPath(_AtomicWord.load(slot + 16) == 0)
    else { return nil }
    let header = Swift.max(16, alignment)
    guard
      let base = _parent(slot).pointee.allocateWithoutCalls(
        byteCount: AllocationRequest.add(byteCount, header), alignment: header)
    else { return nil }
    let pointer = base + header
    pointer.storeBytes(of: UInt(index), toByteOffset: -8, as: UInt.self)
    return pointer
  }

  /// Claims the thread's slot if nobody has, or else allocates from the shared parent.
  @inlinable @inline(never)
  internal func _allocateUnowned(
    _ slot: UnsafeMutableRawPointer, _ index: Int, _ number: UInt, _ total: Int, _ header: Int
  ) -> UnsafeMutableRawPointer? {
    var owner: UInt = 0
    var chosen = (slot: slot, index: index)
    if _AtomicWord.compareExchange(slot + 8, expected: &owner, desired: number) {
      slot.storeBytes(of: 1, toByteOffset: 4, as: UInt32.self)
    } else {
      chosen = (_slot(slotCount), slotCount)
      _Lock.acquire(chosen.slot)
      chosen.slot.storeBytes(of: 1, toByteOffset: 4, as: UInt32.self)
    }
    let base = _parent(chosen.slot).pointee.allocate(byteCount: total, alignment: header)
    if chosen.index == slotCount { _Lock.release(chosen.slot) }
    guard let base else { return nil }
    let pointer = base + header
    pointer.storeBytes(of: UInt(chosen.index), toByteOffset: -8, as: UInt.self)
    return pointer
  }

  @inlinable
  public mutating func deallocate(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) {
    let index = pointer.load(fromByteOffset: -8, as: UInt.self)
    if _slowPath(index > UInt(slotCount)) { _unknownBlock(pointer, index) }
    let slot = _slot(Int(index))
    guard _fastPath(_AtomicWord.load(slot + 8) == UInt(bitPattern: _Thread.number)) else {
      _deallocateElsewhere(slot, Int(index), pointer, byteCount: byteCount, alignment: alignment)
      return
    }
    let header = Swift.max(16, alignment)
    _parent(slot).pointee.deallocate(
      pointer - header, byteCount: byteCount &+ header, alignment: header)
  }

  /// The parent's inline path, for a block of the thread's own slot; false for a block of
  /// another slot (or of the shared one), or when the parent's inline path cannot take it.
  @inlinable @inline(__always)
  public mutating func deallocateWithoutCalls(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int
  ) -> Bool {
    // A block's slot has an owner (never 0), so a thread without a number (0) fails the
    // owner check; the shared slot (index `slotCount`) and a bad header are left to
    // `deallocate`.
    let index = pointer.load(fromByteOffset: -8, as: UInt.self)
    guard _fastPath(index <= UInt(bitPattern: _slotMask)) else { return false }
    let slot = _slot(Int(index))
    let number = UInt(bitPattern: _Thread.numberIfKnown)
    guard _fastPath(_AtomicWord.load(slot + 8) == number) else { return false }
    let header = Swift.max(16, alignment)
    return _parent(slot).pointee.deallocateWithoutCalls(
      pointer - header, byteCount: byteCount &+ header, alignment: header)
  }

  /// Gives a block to the shared parent (under its lock), or pushes it onto its owner's
  /// remote free list: no lock, no waiting.
  @inlinable @inline(never)
  internal func _deallocateElsewhere(
    _ slot: UnsafeMutableRawPointer, _ index: Int, _ pointer: UnsafeMutableRawPointer,
    byteCount: Int, alignment: Int
  ) {
    if index == slotCount {
      let header = Swift.max(16, alignment)
      _Lock.acquire(slot)
      _parent(slot).pointee.deallocate(
        pointer - header, byteCount: byteCount + header, alignment: header)
      _Lock.release(slot)
      return
    }
    let info = UInt(byteCount) << 6 | UInt(alignment.trailingZeroBitCount)
    pointer.storeBytes(of: info, toByteOffset: -8, as: UInt.self)
    let node = pointer - 16
    var head = _AtomicWord.load(slot + 16)
    repeat {
      node.storeBytes(of: head, as: UInt.self)
    } while !_AtomicWord.compareExchange(
      slot + 16, expected: &head, desired: UInt(bitPattern: node))
  }

  /// Gives every block on the slot's remote free list to its parent. Only the slot's owner
  /// (or a caller no other thread races) may call it.
  @inlinable @inline(never)
  internal func _drainRemoteFrees(_ slot: UnsafeMutableRawPointer) {
    var node = _AtomicWord.exchange(slot + 16, 0)
    let parent = _parent(slot)
    while let current = UnsafeMutableRawPointer(bitPattern: node) {
      node = current.load(as: UInt.self)
      let info = current.load(fromByteOffset: 8, as: UInt.self)
      let byteCount = Int(info >> 6)
      let header = Swift.max(16, 1 << Int(info & 63))
      parent.pointee.deallocate(
        current + 16 - header, byteCount: byteCount + header, alignment: header)
    }
  }

  @usableFromInline @inline(never)
  internal func _unknownBlock(_ pointer: UnsafeMutableRawPointer, _ index: UInt) -> Never {
    fatalError(
      "Regions: \(Self.self) was asked to deallocate \(pointer), whose header names slot \(index) of \(slotCount + 1): a pointer it did not allocate, or a corrupted header"
    )
  }

  /// Calls `body` with each parent a thread has allocated from (the shared one last, with
  /// index `slotCount`). Call it only while no other thread uses the stack.
  ///
  /// - Parameters:
  ///   - collectingRemoteFrees: whether to give each slot its pending remote frees first, so
  ///     that the parent's counts are complete (the default).
  ///   - body: called with each slot's index and its parent.
  @inlinable
  public func forEachSlot(
    collectingRemoteFrees: Bool = true, _ body: (_ index: Int, _ parent: inout Parent) -> Void
  ) {
    for index in 0...slotCount {
      let slot = _slot(index)
      if collectingRemoteFrees { _drainRemoteFrees(slot) }
      if slot.load(fromByteOffset: 4, as: UInt32.self) != 0 { body(index, &_parent(slot).pointee) }
    }
  }

  /// Gives each slot's remote frees to its parent, then resets every parent. Threads keep
  /// their slots.
  @inlinable
  public mutating func reset() {
    forEachSlot { _, parent in parent.reset() }
  }

  public func appendReport(to lines: inout [String]) {
    var used: [Int] = []
    for index in 0...slotCount where _slot(index).load(fromByteOffset: 4, as: UInt32.self) != 0 {
      used.append(index)
    }
    lines.append("PerThread(\(slotCount) slots): \(used.count) parents used")
    for index in used {
      var slotLines: [String] = []
      _parent(_slot(index)).pointee.appendReport(to: &slotLines)
      lines.append(index == slotCount ? "  shared:" : "  slot \(index):")
      lines.append(contentsOf: slotLines.map { "    " + $0 })
    }
  }
}

/// The slots of a ``PerThread``: pages holding `slotCount` parents, each with a lock, a
/// used flag, an owner and a remote free list. Unmapped when the last ``PerThread`` copy is gone.
@usableFromInline
internal final class _SlotTable<Parent: Layer> {
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let slotCount: Int
  @usableFromInline let stride: Int
  let byteCount: Int

  /// Where the parent lies in a slot: after 32 bytes of lock, flag, owner and list head.
  @inlinable @inline(__always)
  static var parentOffset: Int { Swift.max(32, MemoryLayout<Parent>.alignment) }

  init(slotCount: Int, _ make: () -> Parent) {
    self.slotCount = slotCount
    // 128 bytes apart at least, so neighbouring slots share no cache line (nor its pair).
    stride = AllocationRequest.roundUp(Self.parentOffset + MemoryLayout<Parent>.stride, to: 128)
    byteCount = AllocationRequest.roundUp(slotCount * stride, to: _Pages.size)
    guard let pages = _Pages.map(byteCount: byteCount, alignment: 128) else {
      preconditionFailure("Regions: PerThread could not map \(byteCount) bytes for its slots")
    }
    base = pages
    for index in 0..<slotCount {
      (pages + index * stride + Self.parentOffset).bindMemory(to: Parent.self, capacity: 1)
        .initialize(to: make())
    }
  }

  deinit {
    for index in 0..<slotCount {
      (base + index * stride + Self.parentOffset).assumingMemoryBound(to: Parent.self)
        .deinitialize(count: 1)
    }
    _Pages.unmap(base, byteCount: byteCount)
  }
}
