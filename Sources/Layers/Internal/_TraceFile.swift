import RegionMacrosSupport

/// The file behind a ``Trace``: a descriptor and a buffer in pages, flushed with write(2)
/// when full, on `flush()`, and when the last ``Trace`` copy is gone. Never allocates after
/// `init`. Not thread-safe.
@usableFromInline
internal final class _TraceFile {
  /// Where the trace goes.
  let path: String
  let descriptor: Int32
  /// One page-aligned mapping: the fill count, the write-error count, then the text.
  let pages: UnsafeMutableRawPointer
  static var mappingSize: Int { 64 << 10 }
  static var headerSize: Int { 16 }
  /// Room a line needs at most ("d 0x" + 16 hex digits + two 20-digit numbers + spaces).
  static var longestLine: Int { 64 }

  /// Opens (creates or truncates) `path` and writes the format's first line.
  init(path: String) {
    let descriptor = path.withCString { regions_file_create($0) }
    if !(descriptor >= 0) {
      AllocationRequest.stop("Regions: Trace could not create \(path) (errno \(regions_errno()))")
    }
    guard let pages = _Pages.map(byteCount: Self.mappingSize, alignment: 16) else {
      preconditionFailure("Regions: Trace could not map its \(Self.mappingSize)-byte buffer")
    }
    self.path = path
    self.descriptor = descriptor
    self.pages = pages
    for byte in "# regions-trace 1\n".utf8 { _put(byte) }
  }

  deinit {
    flush()
    _ = regions_file_close(descriptor)
    _Pages.unmap(pages, byteCount: Self.mappingSize)
  }

  var _filled: Int {
    get { pages.load(as: Int.self) }
    set { pages.storeBytes(of: newValue, as: Int.self) }
  }

  /// write(2) calls that failed so far (the buffer's text was dropped).
  var writeErrors: Int {
    get { pages.load(fromByteOffset: 8, as: Int.self) }
    set { pages.storeBytes(of: newValue, toByteOffset: 8, as: Int.self) }
  }

  /// Writes the buffered text to the file.
  func flush() {
    let count = _filled
    guard count > 0 else { return }
    if regions_file_write(descriptor, pages + Self.headerSize, count) != 0 { writeErrors += 1 }
    _filled = 0
  }

  @inline(__always)
  func _put(_ byte: UInt8) {
    let filled = _filled
    (pages + Self.headerSize + filled).storeBytes(of: byte, as: UInt8.self)
    _filled = filled + 1
  }

  func _putDecimal(_ value: Int) {
    if value < 0 { _put(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    var divisor: UInt = 1
    while magnitude / divisor >= 10 { divisor *= 10 }
    while divisor > 0 {
      _put(UInt8(ascii: "0") + UInt8(magnitude / divisor))
      magnitude %= divisor
      divisor /= 10
    }
  }

  func _putAddress(_ address: UInt) {
    if address == 0 {
      _put(UInt8(ascii: "0"))
      return
    }
    _put(UInt8(ascii: "0"))
    _put(UInt8(ascii: "x"))
    var shift = (UInt.bitWidth - address.leadingZeroBitCount - 1) / 4 * 4
    while shift >= 0 {
      let digit = UInt8((address >> UInt(shift)) & 0xF)
      _put(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
      shift -= 4
    }
  }

  func _startLine(_ operation: UInt8) {
    if _filled > Self.mappingSize - Self.headerSize - Self.longestLine { flush() }
    _put(operation)
  }

  /// `a <byteCount> <alignment> <address>`; address 0 when the request was refused.
  @usableFromInline
  func recordAllocate(byteCount: Int, alignment: Int, result: UnsafeMutableRawPointer?) {
    _startLine(UInt8(ascii: "a"))
    _put(UInt8(ascii: " "))
    _putDecimal(byteCount)
    _put(UInt8(ascii: " "))
    _putDecimal(alignment)
    _put(UInt8(ascii: " "))
    _putAddress(UInt(bitPattern: result))
    _put(UInt8(ascii: "\n"))
  }

  /// `d <address> <byteCount> <alignment>`.
  @usableFromInline
  func recordDeallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    _startLine(UInt8(ascii: "d"))
    _put(UInt8(ascii: " "))
    _putAddress(UInt(bitPattern: pointer))
    _put(UInt8(ascii: " "))
    _putDecimal(byteCount)
    _put(UInt8(ascii: " "))
    _putDecimal(alignment)
    _put(UInt8(ascii: "\n"))
  }

  /// `r`, then a flush.
  @usableFromInline
  func recordReset() {
    _startLine(UInt8(ascii: "r"))
    _put(UInt8(ascii: "\n"))
    flush()
  }
}
