import RegionMacrosSupport

/// The one place layers get pages from the OS. Internal wrappers over the C calls, so that
/// failure paths (mmap returning ENOMEM) can be forced from tests.
@usableFromInline
internal enum _Pages {
  /// The OS page size.
  @usableFromInline
  static var size: Int { Int(regions_page_size()) }

  /// Maps `byteCount` (a page multiple) zeroed bytes aligned to `alignment`, or nil.
  @usableFromInline @inline(never)
  static func map(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    regions_os_map(byteCount, alignment)
  }

  /// Unmaps pages returned by `map`.
  @usableFromInline @inline(never)
  static func unmap(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    let result = regions_os_unmap(pointer, byteCount)
    precondition(result == 0, "Regions: munmap(\(pointer), \(byteCount)) failed, errno \(regions_errno())")
  }
}

/// Test support: makes the next `count` page mappings fail as if the OS had no memory left.
public func _failNextPageMappings(_ count: Int) {
  regions_os_fail_next_maps(Int32(count))
}

/// The process allocator outside every region (see ``System``).
@usableFromInline
internal enum _Ground {
  @usableFromInline @inline(never)
  static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    alignment <= 16 ? regions_ground_malloc(byteCount) : regions_ground_aligned(alignment, byteCount)
  }

  @usableFromInline @inline(never)
  static func deallocate(_ pointer: UnsafeMutableRawPointer) {
    regions_ground_free(pointer)
  }
}

/// Writes a message to standard error with one write(2): no buffering, and no allocation
/// beyond the message itself.
public func _writeToStandardError(_ message: String) {
  var message = message
  message.withUTF8 { bytes in
    bytes.withMemoryRebound(to: CChar.self) { regions_write_stderr($0.baseAddress, $0.count) }
  }
}

extension _Pages {
  /// Makes whole pages inaccessible (any access faults) or readable and writable again.
  @usableFromInline @inline(never)
  static func protect(_ pointer: UnsafeMutableRawPointer, byteCount: Int, accessible: Bool) {
    let result = regions_os_protect(pointer, byteCount, accessible)
    precondition(
      result == 0, "Regions: mprotect(\(pointer), \(byteCount)) failed, errno \(regions_errno())")
  }
}
