import RegionMacrosSupport

/// The 16 bytes the runtime keeps before every block it serves through the hook: free()
/// carries no size, so the runtime records what the program asked for.
///
/// Word 0 is the size the program asked for (what `malloc_usable_size` returns: Swift's Array
/// reads it to set its capacity). Word 1 packs a state tag (live, freed, or pending: claimed by
/// a free from another thread and waiting for the region's lock holder), log2 of the block's
/// alignment and the offset from the stack's block to the program's pointer. The stack is
/// asked for `offset + max(byteCount, 8)` bytes aligned to `max(16, alignment)`, with `offset`
/// that alignment: at least 8 bytes of the block follow the pointer, room for the link of a
/// pending free.
///
/// The tag and the packing also let a scan of a span's pages find the live blocks in it (see
/// `_Spans.scan`): a word 1 that reads live, with an offset that is its own alignment and a
/// size that fits the span, is taken for a live block. A false match (data that happens to
/// look like a header) only withholds a page.
@usableFromInline
struct _BlockHeader {
  @inlinable static var size: Int { 16 }
  @inlinable static var liveTag: UInt { 0x5247 }  // "RG"
  @inlinable static var freedTag: UInt { 0x4652 }  // "FR"
  @inlinable static var pendingTag: UInt { 0x5044 }  // "PD"
  /// Bytes after the program's pointer the stack always provides.
  @inlinable static var minimumTail: Int { 8 }

  var byteCount: Int
  var alignment: Int
  var offset: Int
  var tag: UInt

  /// The stack block's size.
  @inline(__always)
  var stackByteCount: Int { offset &+ Swift.max(byteCount, Self.minimumTail) }

  @inline(__always)
  static func stackByteCount(byteCount: Int, offset: Int) -> Int {
    offset &+ Swift.max(byteCount, minimumTail)
  }

  @inlinable @inline(__always)
  static func packed(tag: UInt, alignment: Int, offset: Int) -> UInt {
    tag << 48 | UInt(alignment.trailingZeroBitCount) << 32 | UInt(offset)
  }

  @inline(__always)
  static func read(_ user: UnsafeMutableRawPointer) -> _BlockHeader {
    let byteCount = user.load(fromByteOffset: -16, as: Int.self)
    let packed = user.load(fromByteOffset: -8, as: UInt.self)
    return _BlockHeader(
      byteCount: byteCount, alignment: 1 << Int((packed >> 32) & 63),
      offset: Int(packed & 0xFFFF_FFFF), tag: packed >> 48)
  }

  @inlinable @inline(__always)
  static func write(_ user: UnsafeMutableRawPointer, byteCount: Int, alignment: Int, offset: Int) {
    user.storeBytes(of: byteCount, toByteOffset: -16, as: Int.self)
    user.storeBytes(
      of: packed(tag: liveTag, alignment: alignment, offset: offset), toByteOffset: -8,
      as: UInt.self)
  }

  /// Sets the tag of a header whose word 1 is `packed`.
  @inlinable @inline(__always)
  static func setTag(_ user: UnsafeMutableRawPointer, packed: UInt, _ tag: UInt) {
    user.storeBytes(of: tag << 48 | (packed & 0xFFFF_FFFF_FFFF), toByteOffset: -8, as: UInt.self)
  }

  @inline(__always)
  static func setTag(_ user: UnsafeMutableRawPointer, _ tag: UInt) {
    let packed = user.load(fromByteOffset: -8, as: UInt.self)
    user.storeBytes(of: tag << 48 | (packed & 0xFFFF_FFFF_FFFF), toByteOffset: -8, as: UInt.self)
  }

  /// Claims a live block for a free from another thread: live → pending, atomically, so that
  /// exactly one of two frees of the same block wins. False if the block was not live.
  @inline(__always)
  static func claimPending(_ user: UnsafeMutableRawPointer) -> Bool {
    let word = (user - 8).assumingMemoryBound(to: UInt.self)
    var expected = regions_atomic_load_word(word)
    while expected >> 48 == liveTag {
      let desired = pendingTag << 48 | (expected & 0xFFFF_FFFF_FFFF)
      if regions_atomic_compare_exchange_word(word, &expected, desired) { return true }
    }
    return false
  }

  /// Whether the 16 bytes at `header` look like a live block's header that ends by `limit`.
  @inline(__always)
  static func looksLive(_ header: UnsafeRawPointer, limit: UInt) -> Bool {
    let packed = header.load(fromByteOffset: 8, as: UInt.self)
    guard packed >> 48 == liveTag || packed >> 48 == pendingTag else { return false }
    let log2Alignment = (packed >> 32) & 0xFFFF
    let offset = packed & 0xFFFF_FFFF
    guard log2Alignment >= 4, log2Alignment <= 31, offset == 1 << log2Alignment else {
      return false
    }
    let byteCount = header.load(as: UInt.self)
    let user = UInt(bitPattern: header) &+ 16
    return byteCount < 1 << 46 && user &+ Swift.max(byteCount, UInt(minimumTail)) <= limit
  }
}
