// What hookbench and layerbench both time against: the C library's malloc+free pair, the
// process's own pair (the Regions hook when it is linked), and the clock.
#if canImport(Glibc)
  import Glibc
#endif

public typealias MallocFunction = @convention(c) (Int) -> UnsafeMutableRawPointer?
public typealias FreeFunction = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// `RTLD_NEXT`: the next definition after this executable's.
public var rtldNext: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: -1) }
/// The C library's malloc and free, even when the executable interposes them.
public let libcMalloc = unsafeBitCast(dlsym(rtldNext, "malloc")!, to: MallocFunction.self)
public let libcFree = unsafeBitCast(dlsym(rtldNext, "free")!, to: FreeFunction.self)
/// Whether `malloc` in this process is not the C library's (the Regions hook).
public let mallocIsInterposed = dlsym(nil, "malloc") != dlsym(rtldNext, "malloc")

/// `iterations` pairs through the C library's malloc and free, called through their
/// addresses; returns a checksum of the blocks, so that nothing is optimized away.
@inline(never)
public func libcPairs(byteCount: Int, iterations: Int) -> UInt {
  // Locals: a library module's globals are initialized lazily, so each use of one would
  // check its initialization again inside the timed loop.
  let malloc = libcMalloc
  let free = libcFree
  var checksum: UInt = 0
  for _ in 0..<iterations {
    let block = malloc(byteCount)!
    checksum = checksum &* 31 &+ UInt(bitPattern: block)
    free(block)
  }
  return checksum
}

/// `iterations` pairs through whatever `malloc` and `free` are in this process (the hook, if
/// linked); returns a checksum of the blocks.
@inline(never)
public func processMallocPairs(byteCount: Int, iterations: Int) -> UInt {
  var checksum: UInt = 0
  for _ in 0..<iterations {
    let block = malloc(byteCount)!
    checksum = checksum &* 31 &+ UInt(bitPattern: block)
    free(block)
  }
  return checksum
}

/// The monotonic clock in nanoseconds.
public func nanoseconds() -> UInt64 {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Times `body` (which runs some pairs and returns a checksum): nanoseconds and the checksum.
@inline(__always)
public func timed(_ body: () -> UInt) -> (nanoseconds: UInt64, checksum: UInt) {
  let start = nanoseconds()
  let checksum = body()
  return (nanoseconds() - start, checksum)
}
