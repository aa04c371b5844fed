// Resident-set readings, giving free memory back, and the probe that checks which allocator
// serves malloc outside regions.
import Regions

#if canImport(Glibc)
  import Glibc
#endif

enum Memory {
  /// The resident set now, from /proc/self/statm (read without allocating).
  static var residentBytes: Int {
    let descriptor = open("/proc/self/statm", O_RDONLY)
    guard descriptor >= 0 else { return -1 }
    defer { close(descriptor) }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer in
      let count = read(descriptor, buffer.baseAddress, buffer.count)
      // Fields: size resident shared … (pages); take the second.
      var field = 0
      var value = 0
      for byte in buffer.prefix(max(0, count)) {
        if byte == UInt8(ascii: " ") {
          if field == 1 { break }
          field += 1
          value = 0
        } else if field == 1 {
          value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
      }
      return value * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
  }

  /// The peak resident set of the process so far (getrusage's maxrss).
  static var peakResidentBytes: Int {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
  }

  /// Asks every allocator present to give its free memory back to the system: the runtime's
  /// page cache (`Region.releaseCachedPages()`), glibc's `malloc_trim(0)`, jemalloc's
  /// `arena.<all>.purge`, mimalloc's `mi_collect(true)` (the last two only when loaded).
  static func releaseFreeMemory() {
    Region.releaseCachedPages()
    if let symbol = dlsym(nil, "malloc_trim") {
      typealias Trim = @convention(c) (Int) -> Int32
      _ = unsafeBitCast(symbol, to: Trim.self)(0)
    }
    if let symbol = dlsym(nil, "mallctl") {
      typealias Mallctl =
        @convention(c) (
          UnsafePointer<CChar>, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?,
          UnsafeMutableRawPointer?, Int
        ) -> Int32
      _ = unsafeBitCast(symbol, to: Mallctl.self)("arena.4096.purge", nil, nil, nil, 0)
    }
    if let symbol = dlsym(nil, "mi_collect") {
      typealias Collect = @convention(c) (Bool) -> Void
      unsafeBitCast(symbol, to: Collect.self)(true)
    }
  }
}

/// `Dl_info` as glibc lays it out (the Glibc module does not import `dladdr`).
struct SymbolInfo {
  var fileName: UnsafePointer<CChar>? = nil
  var fileBase: UnsafeMutableRawPointer? = nil
  var symbolName: UnsafePointer<CChar>? = nil
  var symbolAddress: UnsafeMutableRawPointer? = nil
}

/// The file that defines the symbol at `address` (glibc's `dladdr`).
func libraryPath(_ address: UnsafeMutableRawPointer?) -> String {
  typealias Dladdr = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer) -> Int32
  let dladdr = unsafeBitCast(dlsym(nil, "dladdr")!, to: Dladdr.self)
  var info = SymbolInfo()
  guard let address, dladdr(address, &info) != 0, let name = info.fileName else { return "?" }
  return String(cString: name)
}

/// Which allocator serves malloc outside regions, and whether it really does: allocates 1000
/// blocks of 100 B outside any region and 1000 inside one, and checks which ones the allocator
/// served: jemalloc by its `thread.allocated` counter, mimalloc by `mi_is_in_heap_region`,
/// glibc by the address (the main thread's small blocks come from the heap below the
/// program break; jemalloc, mimalloc and regions map theirs elsewhere).
func probeGround() -> [(String, String)] {
  let next = libraryPath(dlsym(UnsafeMutableRawPointer(bitPattern: -1), "malloc"))
  let process = libraryPath(dlsym(nil, "malloc"))
  let name =
    next.contains("jemalloc") ? "jemalloc" : next.contains("mimalloc") ? "mimalloc" : "glibc"
  let outside = servedBlocks(by: name, inRegion: false)
  let inside = servedBlocks(by: name, inRegion: true)
  return [
    ("probe_malloc_defined_in", process), ("probe_next_malloc", next),
    ("probe_ground", name), ("probe_served_outside_regions", "\(outside)/1000"),
    ("probe_served_inside_a_region", "\(inside)/1000"),
  ]
}

/// How many of 1000 blocks of 100 B the allocator `name` served.
func servedBlocks(by name: String, inRegion: Bool) -> Int {
  let count = 1000
  let blocks = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: count)
  defer { blocks.deallocate() }
  let allocate = {
    for index in 0..<count { blocks[index] = malloc(100)! }
  }
  // Entering a region makes a few ground allocations of its own (its record): measure an
  // empty region first and count only what the blocks add.
  let regionRecord = { Region.enter(Chunk(1 << 16) { Mmap() }) {} }
  regionRecord()
  let before: Int
  if inRegion {
    let start = groundCounter(name)
    regionRecord()
    let emptyRegion = groundCounter(name) - start
    before = groundCounter(name) + emptyRegion
    Region.enter(Chunk(1 << 16) { Mmap() }, allocate)
  } else {
    before = groundCounter(name)
    allocate()
  }
  var served = 0
  switch name {
  case "mimalloc":
    typealias InHeap = @convention(c) (UnsafeRawPointer) -> Bool
    let inHeap = unsafeBitCast(dlsym(nil, "mi_is_in_heap_region")!, to: InHeap.self)
    served = (0..<count).filter { inHeap(blocks[$0]) }.count
  case "jemalloc":
    // Bytes allocated by this thread: at least 100 per block served.
    served = max(0, min(count, (groundCounter(name) - before) / 100))
  default:
    let programBreak = UInt(bitPattern: sbrk(0))
    served = (0..<count).filter { UInt(bitPattern: blocks[$0]) < programBreak }.count
  }
  for index in 0..<count { free(blocks[index]) }
  return served
}

/// Bytes jemalloc has allocated for this thread (0 for the others).
func groundCounter(_ name: String) -> Int {
  guard name == "jemalloc" else { return 0 }
  typealias Mallctl =
    @convention(c) (
      UnsafePointer<CChar>, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?,
      UnsafeMutableRawPointer?, Int
    ) -> Int32
  let mallctl = unsafeBitCast(dlsym(nil, "mallctl")!, to: Mallctl.self)
  var value: UInt64 = 0
  var size = MemoryLayout<UInt64>.size
  _ = mallctl("thread.allocated", &value, &size, nil, 0)
  return Int(value)
}
