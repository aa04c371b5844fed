/// The 16 bytes the runtime keeps before every block it serves through the hook: free()
/// carries no size, so the runtime records what the stack was asked for.
///
/// Word 0 is the usable size (exactly the bytes requested, which `malloc_usable_size`
/// returns); word 1 packs a tag (live or freed), log2 of the block's alignment and the
/// offset from the stack's block to the user's pointer. The stack is asked for
/// `offset + byteCount` bytes aligned to `max(16, alignment)`, with `offset` that alignment.
struct _BlockHeader {
  static let size = 16
  static let liveTag: UInt = 0x5247  // "RG"
  static let freedTag: UInt = 0x4652  // "FR"

  var byteCount: Int
  var alignment: Int
  var offset: Int
  var tag: UInt

  /// The stack block's size.
  var stackByteCount: Int { offset + byteCount }

  static func read(_ user: UnsafeMutableRawPointer) -> _BlockHeader {
    let byteCount = user.load(fromByteOffset: -16, as: Int.self)
    let packed = user.load(fromByteOffset: -8, as: UInt.self)
    return _BlockHeader(
      byteCount: byteCount, alignment: 1 << Int((packed >> 32) & 63),
      offset: Int(packed & 0xFFFF_FFFF), tag: packed >> 48)
  }

  static func write(_ user: UnsafeMutableRawPointer, byteCount: Int, alignment: Int, offset: Int) {
    user.storeBytes(of: byteCount, toByteOffset: -16, as: Int.self)
    let packed = liveTag << 48 | UInt(alignment.trailingZeroBitCount) << 32 | UInt(offset)
    user.storeBytes(of: packed, toByteOffset: -8, as: UInt.self)
  }

  static func markFreed(_ user: UnsafeMutableRawPointer) {
    let packed = user.load(fromByteOffset: -8, as: UInt.self)
    user.storeBytes(
      of: freedTag << 48 | (packed & 0xFFFF_FFFF_FFFF), toByteOffset: -8, as: UInt.self)
  }
}
