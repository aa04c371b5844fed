import RegionMacrosSupport

/// Tells what a region block holds, for leak reports: the Swift class of an object (word 0
/// of a Swift heap object is its metadata), a closure context or box, or a plain block.
///
/// Every read of memory the block does not own goes through `regions_safe_read`, so a block
/// whose first word merely looks like a pointer cannot crash the report.
enum _ObjectNames {
  static let install: Void = {
    _blockPresenter = { block, byteCount in present(stackBlock: block, byteCount: byteCount) }
  }()

  /// `block` is a block a layer handed out (`byteCount` bytes): if the runtime served it, the
  /// program's pointer (after the header), the size it asked for and what it holds.
  static func present(stackBlock block: UnsafeMutableRawPointer, byteCount: Int) -> _PresentedBlock?
  {
    guard let span = _span(containing: block), span.pointee.base <= block else {
      return nil
    }
    // The header sits `offset` bytes in, just before the program's pointer; `offset` is the
    // block's alignment (16 or more), recorded in the header itself.
    var offset = _BlockHeader.size
    while offset <= 1 << 20 && offset < byteCount {
      let user = block + offset
      let header = _BlockHeader.read(user)
      if header.offset == offset && header.stackByteCount == byteCount
        && (header.tag == _BlockHeader.liveTag || header.tag == _BlockHeader.pendingTag
          || header.tag == _BlockHeader.freedTag)
      {
        return _PresentedBlock(
          pointer: user, byteCount: header.byteCount,
          kind: describe(user: user, byteCount: header.byteCount))
      }
      offset <<= 1
    }
    return nil
  }

  static func describe(user: UnsafeMutableRawPointer, byteCount: Int) -> String {
    guard byteCount >= 16 else { return "raw block" }
    let candidate = user.load(as: UInt.self)
    guard candidate != 0, candidate & 7 == 0 else { return "raw block" }
    var words: (UInt, UInt, UInt, UInt, UInt, UInt) = (0, 0, 0, 0, 0, 0)
    let readable = withUnsafeMutableBytes(of: &words) { buffer in
      regions_safe_read(UnsafeRawPointer(bitPattern: candidate), buffer.baseAddress, buffer.count)
    }
    guard readable else { return "raw block" }
    switch words.0 {
    case 0:
      // A Swift class (no Objective-C interop): flags say Swift refcounting, the instance
      // fits the block, and there is a type descriptor.
      let usesSwiftRefcounting = words.2 & 0x2 != 0 && words.2 >> 32 == 0
      let instanceSize = Int(words.3 & 0xFFFF_FFFF)
      let alignMask = Int((words.3 >> 32) & 0xFFFF)
      guard usesSwiftRefcounting, instanceSize >= 16, instanceSize <= byteCount,
        alignMask & (alignMask + 1) == 0, words.5 != 0
      else { return "raw block" }
      let type = unsafeBitCast(UnsafeRawPointer(bitPattern: candidate), to: Any.Type.self)
      return _typeName(type, qualified: true)
    case 0x400: return "closure context"
    case 0x500: return "boxed value"
    case 0x502: return "task"
    default: return "raw block"
    }
  }
}
