import Layers
import RegionMacrosSupport

/// Values that leave a region when its scope ends by throwing: the error (its box, which the
/// Swift runtime allocated in the region) and whatever it references (its message's string
/// storage, say) are not leaks, and survive like any escaping object.
///
/// At the close, `Check` asks which of its live blocks the error reaches: a conservative scan
/// from the error's box, following every word that points into a live block (a Swift object
/// pointer, or a string's storage with flags in its top bits), through the blocks it reaches.
/// It may keep a block that a stray word points at; it never calls one the error reaches a
/// leak.
enum _Escapes {
  static let install: Void = {
    _blocksReachedByEscapingValues = { extents in reached(extents) }
  }()

  /// Records the error a region's body threw, before the region closes.
  static func note(_ error: any Error, leaving region: _RegionNode) {
    // The existential's one word, the box: through a pointer to the existential itself (a
    // generic call would open it, and see the error's value instead).
    var boxed: any Error = error
    region.core.pointee.escapingError = withUnsafeMutablePointer(to: &boxed) {
      UnsafeRawPointer($0).load(as: UnsafeRawPointer.self)
    }
  }

  /// The region being closed on this thread (its stack is being reset), if any.
  static var closing: _Core? {
    guard let state = regions_thread_context()!.pointee.state,
      state != regions_hook_inside_marker()
    else { return nil }
    let core = state.assumingMemoryBound(to: _RegionCore.self)
    return core.pointee.isOpen ? nil : core
  }

  static func reached(_ extents: [_BlockExtent]) -> [Bool]? {
    guard let core = closing, let root = core.pointee.escapingError else { return nil }
    let order = extents.indices.sorted { extents[$0].address < extents[$1].address }
    var marked = [Bool](repeating: false, count: extents.count)
    var work: [(start: UInt, end: UInt)] = []
    let box = UInt(bitPattern: root)
    // The box: scanned whole, whether it is one of the blocks or not (it may come from the
    // ground, or from a region out).
    if let index = containing(box, extents, order) {
      marked[index] = true
      work.append((extents[index].address, extents[index].address + UInt(extents[index].byteCount)))
    } else {
      let size = regions_malloc_usable_size(UnsafeMutableRawPointer(mutating: root))
      work.append((box, box + UInt(Swift.max(size, 16))))
    }
    while let (start, end) = work.popLast() {
      var word = start & ~7
      while word + 8 <= end {
        // The low 48 bits: a pointer, with or without the flags Swift keeps in the top ones.
        let candidate = UnsafeRawPointer(bitPattern: word)!.load(as: UInt.self) & 0xFFFF_FFFF_FFFF
        if let index = containing(candidate, extents, order), !marked[index] {
          marked[index] = true
          work.append(
            (extents[index].address, extents[index].address + UInt(extents[index].byteCount)))
        }
        word += 8
      }
    }
    return marked
  }

  /// The block (index into `extents`) whose bytes hold `address`, by binary search in `order`.
  private static func containing(_ address: UInt, _ extents: [_BlockExtent], _ order: [Int]) -> Int?
  {
    var low = 0
    var high = order.count
    while low < high {
      let middle = (low + high) / 2
      if extents[order[middle]].address <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let index = order[low - 1]
    return address < extents[index].address + UInt(extents[index].byteCount) ? index : nil
  }
}
