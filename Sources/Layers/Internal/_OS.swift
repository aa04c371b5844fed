import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The one place layers get pages from the OS. Internal wrappers over the C calls, so that
/// failure paths (mmap returning ENOMEM) can be forced from tests.
@usableFromInline
internal enum _Pages {
  /// The OS page size.
  @usableFromInline
  static var size: Int { Int(regions_page_size()) }

  /// Maps `byteCount` (a page multiple) bytes aligned to `alignment`, or nil: zeroed, or
  /// when not `cleared` possibly holding what a closed region left in them.
  ///
  /// Goes through the page routes, so that in hook mode the pages are recorded as a span of
  /// the region being served (and withheld from the OS while a block in them is live).
  @usableFromInline @inline(never)
  static func map(byteCount: Int, alignment: Int, cleared: Bool = true)
    -> UnsafeMutableRawPointer?
  {
    if let routes = _pageRoutes { return routes.acquire(byteCount, alignment, cleared) }
    return regions_os_map(byteCount, alignment)
  }

  /// Gives back pages returned by `map`.
  @usableFromInline @inline(never)
  static func unmap(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    if let routes = _pageRoutes { return routes.release(pointer, byteCount) }
    regions_os_unmap(pointer, byteCount)
  }
}

/// The process allocator outside every region (see ``ProcessAllocator``).
@usableFromInline
internal enum _ProcessAllocator {
  @usableFromInline @inline(never)
  static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    alignment <= 16
      ? regions_ground_malloc(byteCount) : regions_ground_aligned(alignment, byteCount)
  }

  @usableFromInline @inline(never)
  static func deallocate(_ pointer: UnsafeMutableRawPointer) {
    regions_ground_free(pointer)
  }
}

/// Writes a message to standard error with one write(2): no buffering, and no allocation
/// beyond the message itself.
@usableFromInline package func _writeToStandardError(_ message: String) {
  var message = message
  message.withUTF8 { bytes in
    bytes.withMemoryRebound(to: CChar.self) { regions_write_stderr($0.baseAddress, $0.count) }
  }
}

/// Writes `text` to the file at `path` (created or truncated); on failure, a message naming
/// `writer` and the errno on standard error. Not on the allocation path.
package func _writeFile(_ path: String, _ text: String, writer: String) {
  let descriptor = regions_file_create(path)
  guard descriptor >= 0 else {
    _writeToStandardError("Regions: \(writer) could not create \(path) (errno \(errno))\n")
    return
  }
  var bytes = Array(text.utf8)
  if regions_file_write(descriptor, &bytes, bytes.count) != 0 {
    _writeToStandardError("Regions: \(writer) could not write \(path) (errno \(errno))\n")
  }
  _ = regions_file_close(descriptor)
}

/// The program break, for ``Sbrk``: the C library's `sbrk`/`brk`, so its malloc keeps a
/// true picture of the break.
@usableFromInline
internal enum _Break {
  /// The current break, or 0 if the C library cannot tell.
  @usableFromInline @inline(never)
  static func current() -> UInt {
    UInt(bitPattern: regions_break_current())
  }

  /// Moves the break up by `byteCount`; returns the start of the new bytes, or 0 on failure.
  @usableFromInline @inline(never)
  static func grow(by byteCount: Int) -> UInt {
    UInt(bitPattern: regions_break_grow(byteCount))
  }

  /// Sets the break to `address`; false on failure.
  @usableFromInline @inline(never)
  static func set(_ address: UInt) -> Bool {
    regions_break_set(UnsafeMutableRawPointer(bitPattern: address)) == 0
  }
}

extension _Pages {
  /// Tells the OS it may drop the contents of these whole pages (they read back as zero).
  @usableFromInline @inline(never)
  static func discard(_ address: UInt, byteCount: Int) {
    _ = regions_os_discard(UnsafeMutableRawPointer(bitPattern: address), byteCount)
  }
}

extension _Pages {
  /// Makes whole pages inaccessible (any access faults) or readable and writable again;
  /// false when the kernel refuses (its limit on mappings, `vm.max_map_count`, reached).
  @usableFromInline @inline(never)
  static func protect(_ pointer: UnsafeMutableRawPointer, byteCount: Int, accessible: Bool)
    -> Bool
  {
    if let routes = _pageRoutes { return routes.protect(pointer, byteCount, accessible) }
    return regions_os_protect(pointer, byteCount, accessible) == 0
  }
}

/// Page blocks from the enclosing region or the ground (the sources behind
/// ``OuterRegionPages`` and ``GroundPages``). In hook mode the Regions runtime records them as
/// spans of the region being served; without it they are page-aligned blocks of the process
/// allocator.
@usableFromInline
internal enum _OuterPages {
  @usableFromInline @inline(never)
  static func acquire(byteCount: Int, alignment: Int, groundOnly: Bool) -> UnsafeMutableRawPointer?
  {
    let alignment = Swift.max(alignment, _Pages.size)
    if let routes = _pageRoutes { return routes.acquireOuter(byteCount, alignment, groundOnly) }
    return regions_ground_aligned(alignment, byteCount)
  }

  @usableFromInline @inline(never)
  static func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    if let routes = _pageRoutes { return routes.releaseOuter(pointer, byteCount) }
    regions_ground_free(pointer)
  }
}
