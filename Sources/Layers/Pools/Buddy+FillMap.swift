// Buddy's debugging views, after memorypool's `debugShowPoolFillsData` and
// `getPtrFragmentation`. Not on the allocation path: they build strings.

extension Buddy {
  /// A picture of every block: one line per block, `"<index> <units>"`, each line ending in a
  /// newline, lowest index first. Each unit (`baseSize` bytes) is one character: `#` for the
  /// first unit of a run in use, `+` for its other units, a space for a free unit.
  ///
  /// ```
  /// 0 ## #+++
  /// 1 #+
  /// ```
  ///
  /// - Complexity: O(blocks · 2^blockExponent).
  public var fillMap: String {
    var text = ""
    _blocks.forEachBlock { slot, base in
      let tree = _BuddyTree(base &+ UInt(blockSize), exponent: blockExponent)
      text += "\(slot) \(tree.picture())\n"
    }
    return text
  }

  /// A rough estimate of how full the block holding `pointer` is, as memorypool reports it:
  /// 1 when nothing in the block is free, else 1 − (the largest free run in the block's first
  /// half + the largest in its second half) ÷ the units in a block. An empty block reads 0;
  /// 0.75 means at least a quarter of the block is free. Nil when no block holds `pointer`
  /// (large requests passed to the parent included).
  ///
  /// - Complexity: O(blocks).
  public func fragmentation(of pointer: UnsafeRawPointer) -> Double? {
    guard let slot = _blocks.slot(holding: UInt(bitPattern: pointer), _geometry) else {
      return nil
    }
    let tree = _BuddyTree(_blocks.base(slot) &+ UInt(blockSize), exponent: blockExponent)
    if tree.nodes[0] == 0 { return 1 }
    if blockExponent == 0 { return 0 }
    let free = tree.freeUnits(1) + tree.freeUnits(2)
    return 1 - Double(free) / Double(1 << blockExponent)
  }
}
