/// The tree of one ``Buddy`` block: one byte per node of a complete binary tree over the
/// block's `2^exponent` base units, stored breadth first (node `i` has children `2i+1`, `2i+2`).
///
/// A node's byte is 0 when nothing below it is free, else `k + 1` where `2^k` units is the
/// largest wholly free run below it (memorypool annotates the run's length; this stores its
/// log so a byte suffices). A run in use is a node set to 0 whose children keep the values
/// they had when it was taken (both non-zero); a node that is 0 because both halves are in
/// use has a child that is 0.
@usableFromInline
internal struct _BuddyTree {
  @usableFromInline let nodes: UnsafeMutablePointer<UInt8>
  @usableFromInline let exponent: Int

  @inlinable
  init(_ address: UInt, exponent: Int) {
    self.nodes = UnsafeMutablePointer(bitPattern: address).unsafelyUnwrapped
    self.exponent = exponent
  }

  /// Bytes of tree for `2^exponent` units, rounded up to 16.
  @inlinable
  static func byteCount(exponent: Int) -> Int { Swift.max(16, 1 << (exponent + 1)) }

  /// Marks every unit free.
  @usableFromInline
  func initialize() {
    for depth in 0...exponent {
      let first = (1 << depth) - 1
      (nodes + first).initialize(repeating: UInt8(exponent - depth + 1), count: 1 << depth)
    }
  }

  @inlinable var isWhollyFree: Bool { Int(nodes[0]) == exponent + 1 }

  /// Whether a run of `2^order` units is free somewhere in the block.
  @inlinable func fits(order: Int) -> Bool { Int(nodes[0]) > order }

  /// Takes the leftmost free run of `2^order` units and returns its first unit.
  ///
  /// - Requires: `fits(order:)`.
  @usableFromInline
  func take(order: Int) -> Int {
    var index = 0
    var level = exponent
    var leaf = 0
    let needed = UInt8(order + 1)
    while level > order {
      let left = 2 * index + 1
      level -= 1
      if nodes[left] >= needed {
        index = left
      } else {
        index = left + 1
        leaf += 1 << level
      }
    }
    nodes[index] = 0
    // Update the ancestors, up to the first whose value does not change.
    while index > 0 {
      index = (index - 1) / 2
      let value = Swift.max(nodes[2 * index + 1], nodes[2 * index + 2])
      if nodes[index] == value { break }
      nodes[index] = value
    }
    return leaf
  }

  /// Frees the run of `2^order` units starting at unit `leaf`, merging buddies. Returns false
  /// (changing nothing) when that run is not in use.
  @usableFromInline
  func free(leaf: Int, order: Int) -> Bool {
    var index = (1 << (exponent - order)) - 1 + (leaf >> order)
    guard isRunInUse(index, order: order) else { return false }
    var level = order
    nodes[index] = UInt8(level + 1)
    while index > 0 {
      index = (index - 1) / 2
      level += 1
      let left = nodes[2 * index + 1]
      let right = nodes[2 * index + 2]
      let halfFree = UInt8(level)  // a wholly free child of a node at `level`
      let value = left == halfFree && right == halfFree ? halfFree + 1 : Swift.max(left, right)
      if nodes[index] == value { break }
      nodes[index] = value
    }
    return true
  }

  /// Whether node `index` (at `order` levels above the units) is a run in use.
  @inlinable
  func isRunInUse(_ index: Int, order: Int) -> Bool {
    nodes[index] == 0 && (order == 0 || (nodes[2 * index + 1] != 0 && nodes[2 * index + 2] != 0))
  }

  /// Units in the largest wholly free run below node `index`.
  @inlinable
  func freeUnits(_ index: Int) -> Int { nodes[index] == 0 ? 0 : 1 << (Int(nodes[index]) - 1) }

  /// memorypool's picture of the block: one character per unit, `#` for the first unit of a
  /// run in use, `+` for its other units, a space for a free unit.
  func picture() -> String {
    var text = ""
    func draw(_ index: Int, _ level: Int) {
      if level == 0 {
        text.append(nodes[index] == 0 ? "#" : " ")
      } else if isRunInUse(index, order: level) {
        text.append("#")
        text.append(String(repeating: "+", count: (1 << level) - 1))
      } else {
        draw(2 * index + 1, level - 1)
        draw(2 * index + 2, level - 1)
      }
    }
    draw(0, exponent)
    return text
  }
}

/// ``Buddy``'s directory of blocks: slot `i` holds block `i`'s address (0 when empty), in
/// storage from the parent. Each block's tree follows its data in the same parent block.
@usableFromInline
internal struct _BuddyBlocks {
  @usableFromInline
  struct Geometry {
    @usableFromInline let blockSize: Int
    @usableFromInline let exponent: Int
    @usableFromInline let parentByteCount: Int
    @usableFromInline let baseSize: Int

    @inlinable
    init(blockSize: Int, exponent: Int, parentByteCount: Int, baseSize: Int) {
      self.blockSize = blockSize
      self.exponent = exponent
      self.parentByteCount = parentByteCount
      self.baseSize = baseSize
    }

    @inlinable func tree(_ base: UInt) -> _BuddyTree {
      _BuddyTree(base &+ UInt(blockSize), exponent: exponent)
    }
  }

  @usableFromInline var _slots: UnsafeMutablePointer<UInt>? = nil
  @usableFromInline var _capacity = 0
  @usableFromInline var _hint = 0
  @usableFromInline var count = 0
  @usableFromInline var requested = 0
  @usableFromInline var returned = 0

  @inlinable init() {}

  @inlinable func base(_ slot: Int) -> UInt { _slots.unsafelyUnwrapped[slot] }

  /// Takes a run from the hinted block, else from the first block (by index) where it fits.
  @usableFromInline
  mutating func take(order: Int, _ geometry: Geometry) -> UInt? {
    guard let slots = _slots else { return nil }
    var slot = _hint
    if slot >= _capacity || slots[slot] == 0 || !geometry.tree(slots[slot]).fits(order: order) {
      slot = 0
      while slot < _capacity && (slots[slot] == 0 || !geometry.tree(slots[slot]).fits(order: order))
      {
        slot += 1
      }
      if slot == _capacity { return nil }
    }
    _hint = slot
    let leaf = geometry.tree(slots[slot]).take(order: order)
    return slots[slot] &+ UInt(leaf &* geometry.baseSize)
  }

  /// Adds a new block at the lowest empty slot, growing the directory from `parent` if
  /// needed. Returns false when the parent cannot supply it.
  @usableFromInline
  mutating func add<Parent: Layer>(_ base: UInt, _ geometry: Geometry, parent: inout Parent)
    -> Bool
  {
    var slot = 0
    while slot < _capacity && _slots.unsafelyUnwrapped[slot] != 0 { slot += 1 }
    if slot == _capacity {
      let newCapacity = Swift.max(32, _capacity * 2)
      let bytes = newCapacity * MemoryLayout<UInt>.stride
      guard let raw = parent.allocate(byteCount: bytes, alignment: 16) else { return false }
      let newSlots = raw.initializeMemory(as: UInt.self, repeating: 0, count: newCapacity)
      if let old = _slots {
        newSlots.update(from: old, count: _capacity)
        parent.deallocate(
          UnsafeMutableRawPointer(old), byteCount: _capacity * MemoryLayout<UInt>.stride,
          alignment: 16)
      }
      _slots = newSlots
      _capacity = newCapacity
    }
    geometry.tree(base).initialize()
    _slots.unsafelyUnwrapped[slot] = base
    _hint = slot
    count += 1
    requested += 1
    return true
  }

  /// The slot of the block holding `address`: the hinted block first, then a scan.
  @usableFromInline
  func slot(holding address: UInt, _ geometry: Geometry) -> Int? {
    guard let slots = _slots else { return nil }
    let size = UInt(geometry.blockSize)
    if _hint < _capacity && slots[_hint] != 0 && address &- slots[_hint] < size { return _hint }
    for slot in 0..<_capacity where slots[slot] != 0 && address &- slots[slot] < size {
      return slot
    }
    return nil
  }

  @usableFromInline
  mutating func remove(slot: Int) {
    _slots.unsafelyUnwrapped[slot] = 0
    count -= 1
    returned += 1
  }

  /// Calls `body` with every block's slot and address, lowest slot first.
  @usableFromInline
  func forEachBlock(_ body: (_ slot: Int, _ base: UInt) -> Void) {
    for slot in 0..<_capacity where _slots.unsafelyUnwrapped[slot] != 0 {
      body(slot, _slots.unsafelyUnwrapped[slot])
    }
  }

  /// Forgets every block and gives the directory's storage back to `parent`.
  @usableFromInline
  mutating func release<Parent: Layer>(parent: inout Parent) {
    if let slots = _slots {
      parent.deallocate(
        UnsafeMutableRawPointer(slots), byteCount: _capacity * MemoryLayout<UInt>.stride,
        alignment: 16)
    }
    let counters = (requested, returned)
    self = _BuddyBlocks()
    (requested, returned) = counters
  }
}
