import RegionMacrosSupport

// Guard's block layout, canaries, poison and reports.
//
// Canaries: [canary front zone | block | canary back zone]; the front zone is
// max(16, alignment) bytes, its last 8 bytes the freed marker once the block is freed.
// Pages: [guard pages | slack canaries, block, slack canaries | guard page], the block ending
// as close to the last data page's end as its alignment allows.

extension Guard {
  @inlinable
  static func _extent(_ protection: Protection, byteCount: Int, alignment: Int) -> _GuardExtent {
    if protection == .canaries {
      let front = Swift.max(16, alignment)
      let total = AllocationRequest.add(
        front, AllocationRequest.add(AllocationRequest.roundUp(byteCount, to: 16), 16))
      return _GuardExtent(total: total, alignment: front, front: front, data: 0)
    }
    let page = _Pages.size
    let front = Swift.max(page, alignment)
    let data = AllocationRequest.roundUp(Swift.max(byteCount, 1), to: page)
    let total = AllocationRequest.add(front, AllocationRequest.add(data, page))
    return _GuardExtent(total: total, alignment: front, front: front, data: data)
  }

  @inlinable
  func _extent(byteCount: Int, alignment: Int) -> _GuardExtent {
    Self._extent(protection, byteCount: byteCount, alignment: alignment)
  }

  @inlinable
  func _armCanaries(_ base: UnsafeMutableRawPointer, byteCount: Int, alignment: Int)
    -> UnsafeMutableRawPointer
  {
    let start = UInt(bitPattern: base)
    let block = start + UInt(Swift.max(16, alignment))
    let total = _extent(byteCount: byteCount, alignment: alignment).total
    _GuardBytes.fillCanaries(start, block)
    _GuardBytes.fillCanaries(block + UInt(byteCount), start + UInt(total))
    return UnsafeMutableRawPointer(bitPattern: block).unsafelyUnwrapped
  }

  @inlinable
  func _armPages(
    _ base: UnsafeMutableRawPointer, _ extent: _GuardExtent, byteCount: Int, alignment: Int
  ) -> UnsafeMutableRawPointer? {
    let dataStart = UInt(bitPattern: base) + UInt(extent.front)
    let dataEnd = dataStart + UInt(extent.data)
    let block = (dataEnd - UInt(Swift.max(byteCount, 1))) & ~(UInt(alignment) - 1)
    _GuardBytes.fillCanaries(dataStart, block)
    _GuardBytes.fillCanaries(block + UInt(byteCount), dataEnd)
    // The kernel may refuse a protection (each guarded block adds mappings; its limit is
    // vm.max_map_count): then the block is not guarded, and the request fails.
    guard _Pages.protect(base, byteCount: extent.front, accessible: false) else { return nil }
    guard
      _Pages.protect(base + extent.front + extent.data, byteCount: _Pages.size, accessible: false)
    else {
      if !_Pages.protect(base, byteCount: extent.front, accessible: true) { _lost(base) }
      return nil
    }
    return UnsafeMutableRawPointer(bitPattern: block).unsafelyUnwrapped
  }

  /// Stops the program: pages Guard protected cannot be made accessible again, so they
  /// can neither be used nor given back.
  @usableFromInline @inline(never)
  func _lost(_ base: UnsafeMutableRawPointer) -> Never {
    AllocationRequest.stop(
      "Regions: \(_layerTypeDescription(Self.self)) cannot make the pages at \(base) accessible again (mprotect failed, errno \(regions_errno())), so it can neither use nor give them back"
    )
  }

  /// Checks a block being freed, marks it freed and fills it with poison.
  @inlinable
  func _checkAndPoison(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    let block = UInt(bitPattern: pointer)
    if _GuardBytes.mismatches(block - 8, block, _GuardBytes.freed).count == 0 {
      _corrupted(.doubleFree, pointer, byteCount, alignment, at: block, expected: 0, count: 0)
    }
    _checkCanaries(pointer, byteCount: byteCount, alignment: alignment, freed: false)
    _GuardBytes.fill(block - 8, block, _GuardBytes.freed)
    pointer.initializeMemory(as: UInt8.self, repeating: 0xDD, count: byteCount)
  }

  /// Checks the canaries around a block (with the freed marker, if `freed`).
  @inlinable
  func _checkCanaries(
    _ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int, freed: Bool
  ) {
    let block = UInt(bitPattern: pointer)
    let start = block - UInt(Swift.max(16, alignment))
    let end = start + UInt(_extent(byteCount: byteCount, alignment: alignment).total)
    let front = freed ? block - 8 : block
    if case let bad = _GuardBytes.canaryMismatches(start, front), bad.count > 0 {
      _corrupted(
        .underflow, pointer, byteCount, alignment, at: bad.last,
        expected: _GuardBytes.canary(bad.last), count: bad.count)
    }
    if freed, case let bad = _GuardBytes.mismatches(block - 8, block, _GuardBytes.freed),
      bad.count > 0
    {
      _corrupted(
        .underflow, pointer, byteCount, alignment, at: bad.last,
        expected: _GuardBytes.freed(bad.last), count: bad.count)
    }
    if case let bad = _GuardBytes.canaryMismatches(block + UInt(byteCount), end), bad.count > 0 {
      _corrupted(
        .overflow, pointer, byteCount, alignment, at: bad.first,
        expected: _GuardBytes.canary(bad.first), count: bad.count)
    }
  }

  /// Checks a paged block's slack canaries, then makes its pages inaccessible. A second
  /// free of the block faults here.
  @inlinable
  func _checkAndProtect(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int)
    -> Bool
  {
    let page = UInt(_Pages.size)
    let block = UInt(bitPattern: pointer)
    let dataStart = block & ~(page - 1)
    let extent = _extent(byteCount: byteCount, alignment: alignment)
    let dataEnd = dataStart + UInt(extent.data)
    if case let bad = _GuardBytes.canaryMismatches(dataStart, block), bad.count > 0 {
      _corrupted(
        .underflow, pointer, byteCount, alignment, at: bad.last,
        expected: _GuardBytes.canary(bad.last), count: bad.count)
    }
    if case let bad = _GuardBytes.canaryMismatches(block + UInt(byteCount), dataEnd), bad.count > 0
    {
      _corrupted(
        .overflow, pointer, byteCount, alignment, at: bad.first,
        expected: _GuardBytes.canary(bad.first), count: bad.count)
    }
    // Touch the first data page, so that a double free faults even without slack.
    UnsafeMutablePointer<UInt8>(bitPattern: dataStart).unsafelyUnwrapped.pointee = 0xDD
    return _Pages.protect(
      UnsafeMutableRawPointer(bitPattern: dataStart).unsafelyUnwrapped, byteCount: extent.data,
      accessible: false)
  }

  /// Checks a block leaving the quarantine and gives it back to the parent.
  @inlinable
  mutating func _verifyAndRelease(_ entry: _Quarantine.Entry) {
    let pointer = UnsafeMutableRawPointer(bitPattern: entry.address).unsafelyUnwrapped
    let extent = _extent(byteCount: entry.byteCount, alignment: entry.alignment)
    let base: UnsafeMutableRawPointer
    if protection == .canaries {
      let block = entry.address
      if case let bad = _GuardBytes.poisonMismatches(block, block + UInt(entry.byteCount)),
        bad.count > 0
      {
        _corrupted(
          .writeAfterFree, pointer, entry.byteCount, entry.alignment, at: bad.first, expected: 0xDD,
          count: bad.count)
      }
      _checkCanaries(pointer, byteCount: entry.byteCount, alignment: entry.alignment, freed: true)
      base = pointer - extent.front
    } else {
      let dataStart = entry.address & ~UInt(_Pages.size - 1)
      base = UnsafeMutableRawPointer(bitPattern: dataStart).unsafelyUnwrapped - extent.front
      if !_Pages.protect(base, byteCount: extent.total, accessible: true) { _lost(base) }
    }
    _verifiedBlocks += 1
    parent.deallocate(base, byteCount: extent.total, alignment: extent.alignment)
  }

  @usableFromInline
  enum _Corruption {
    case overflow, underflow, writeAfterFree, doubleFree
  }

  /// Stops the program with a report naming the block and the first changed byte.
  @usableFromInline @inline(never)
  func _corrupted(
    _ kind: _Corruption, _ pointer: UnsafeMutableRawPointer, _ byteCount: Int, _ alignment: Int,
    at address: UInt, expected: UInt8, count: Int
  ) -> Never {
    let hex = { (value: UInt) in "0x" + String(value, radix: 16) }
    // In the program's terms: in hook mode the runtime's header lies at the start of the
    // block Guard handed out, and the program holds the pointer after it.
    let presented =
      _blockPresenter?(pointer, byteCount)
      ?? _PresentedBlock(pointer: pointer, byteCount: byteCount, kind: "block")
    let block =
      "block \(presented.pointer) (\(presented.byteCount) bytes, alignment \(alignment))"
    let offset = Int(bitPattern: address &- UInt(bitPattern: presented.pointer))
    let found = UnsafePointer<UInt8>(bitPattern: address)?.pointee ?? 0
    let byte =
      "byte at offset \(offset) (\(hex(address))) is \(hex(UInt(found))), expected \(hex(UInt(expected)))"
    let more = count > 1 ? "; \(count) bytes differ" : ""
    let what: String
    switch kind {
    case .overflow: what = "a buffer overflow past the end of \(block): \(byte)\(more)"
    case .underflow: what = "a buffer underflow before the start of \(block): \(byte)\(more)"
    case .writeAfterFree:
      what = "a write after free to \(block), freed earlier: \(byte) (poison)\(more)"
    case .doubleFree: what = "a double free of \(block)"
    }
    let hint =
      kind == .overflow || kind == .underflow
      ? " (or a deallocate with another byteCount or alignment than the allocation's)" : ""
    fatalError("Regions: \(_layerTypeDescription(Self.self)) found \(what)\(hint)")
  }
}

/// The parent's block behind a request: its size and alignment.
@usableFromInline
internal struct _GuardExtent {
  @usableFromInline var total: Int
  @usableFromInline var alignment: Int
  /// Bytes before the block (canaries) or of the front guard zone (pages), and of the data
  /// pages (pages mode only).
  @usableFromInline var front: Int
  @usableFromInline var data: Int

  @inlinable
  init(total: Int, alignment: Int, front: Int, data: Int) {
    (self.total, self.alignment, self.front, self.data) = (total, alignment, front, data)
  }
}

/// Bytes found changed in a range: the first and last address, and how many (0: none).
@usableFromInline
internal struct _Mismatch {
  @usableFromInline var first: UInt = 0
  @usableFromInline var last: UInt = 0
  @usableFromInline var count = 0

  @inlinable init() {}
}

/// The bytes Guard writes around and into blocks, and the loops that write and check them.
@usableFromInline
internal enum _GuardBytes {
  /// The canary byte at `address`: 0xE0 to 0xFF, varying with the address.
  @inlinable @inline(__always)
  static func canary(_ address: UInt) -> UInt8 { 0xE0 | UInt8(truncatingIfNeeded: address & 0x1F) }

  /// What freed blocks are filled with (the address does not matter).
  @inlinable @inline(__always)
  static func poison(_ address: UInt) -> UInt8 { 0xDD }

  /// The freed marker byte at `address` (in the last 8 bytes of the front zone).
  @inlinable @inline(__always)
  static func freed(_ address: UInt) -> UInt8 { ~canary(address) }

  @inlinable
  static func fill(_ start: UInt, _ end: UInt, _ byte: (UInt) -> UInt8) {
    var address = start
    while address < end {
      UnsafeMutablePointer<UInt8>(bitPattern: address).unsafelyUnwrapped.pointee = byte(address)
      address &+= 1
    }
  }

  /// The addresses in `start..<end` whose byte differs from `byte(address)`: the first, the
  /// last and how many (none: `count` 0).
  @inlinable
  static func mismatches(_ start: UInt, _ end: UInt, _ byte: (UInt) -> UInt8) -> _Mismatch {
    var found = _Mismatch()
    var address = start
    while address < end {
      if UnsafeMutablePointer<UInt8>(bitPattern: address).unsafelyUnwrapped.pointee != byte(address)
      {
        if found.count == 0 { found.first = address }
        found.last = address
        found.count &+= 1
      }
      address &+= 1
    }
    return found
  }

  /// Like `mismatches` with the poison byte, a word at a time while the words are intact.
  @inlinable
  static func poisonMismatches(_ start: UInt, _ end: UInt) -> _Mismatch {
    var address = start
    while address < end && address & 7 != 0 {
      if UnsafePointer<UInt8>(bitPattern: address).unsafelyUnwrapped.pointee != 0xDD { break }
      address &+= 1
    }
    while address &+ 8 <= end && address & 7 == 0
      && UnsafePointer<UInt64>(bitPattern: address).unsafelyUnwrapped.pointee
        == 0xDDDD_DDDD_DDDD_DDDD
    {
      address &+= 8
    }
    return mismatches(address, end, poison)
  }

  /// The canary bytes of the 8-byte word at `address` (a multiple of 8).
  @inlinable @inline(__always)
  static func canaryWord(_ address: UInt) -> UInt64 {
    0xE7E6_E5E4_E3E2_E1E0 &+ UInt64(address & 0x1F) &* 0x0101_0101_0101_0101
  }

  /// Writes canaries over `start..<end`, a word at a time where it can.
  @inlinable
  static func fillCanaries(_ start: UInt, _ end: UInt) {
    var address = start
    while address < end && address & 7 != 0 {
      UnsafeMutablePointer<UInt8>(bitPattern: address).unsafelyUnwrapped.pointee = canary(address)
      address &+= 1
    }
    while address &+ 8 <= end {
      UnsafeMutablePointer<UInt64>(bitPattern: address).unsafelyUnwrapped.pointee = canaryWord(
        address)
      address &+= 8
    }
    fill(address, end, canary)
  }

  /// Like `mismatches` with canaries, a word at a time while the words are intact.
  @inlinable
  static func canaryMismatches(_ start: UInt, _ end: UInt) -> _Mismatch {
    var address = start
    while address < end && address & 7 != 0 {
      if UnsafePointer<UInt8>(bitPattern: address).unsafelyUnwrapped.pointee != canary(address) {
        break
      }
      address &+= 1
    }
    while address &+ 8 <= end && address & 7 == 0
      && UnsafePointer<UInt64>(bitPattern: address).unsafelyUnwrapped.pointee == canaryWord(address)
    {
      address &+= 8
    }
    return mismatches(address, end, canary)
  }
}
