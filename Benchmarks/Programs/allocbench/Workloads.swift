// The allocation microbenchmarks: small fixed sizes, mixed sizes, realloc-style growth.
// Every allocation is a C malloc-family call, so it goes wherever the process's malloc goes:
// the ground (whatever allocator is next after the Regions hook) or the current region.
import Regions

#if canImport(Glibc)
  import Glibc
#endif

/// Runs `body` once for the whole workload: inside one region when the stack is a
/// general-purpose one (blocks are reused within it), directly otherwise.
func wholeRun<Result>(_ placement: Placement, _ body: () -> Result) -> Result {
  switch placement {
  case .region(.sizeclasses): Region.enter(SizeClasses { Mmap() }, body)
  case .region(.bonwick): Region.enter(Bonwick { Mmap() }, body)
  case .region(.perthread): Region.enter(PerThread { SizeClasses { Mmap() } }, body)
  case .region(.chunk), .ground: body()
  }
}

/// Runs rounds of a workload: each in a fresh region over an arena (entered again, so its
/// pages come back from the runtime's page cache) when the stack is `chunk`, directly
/// otherwise.
struct Rounds {
  let placement: Placement
  var arena = Chunk(1 << 20) { Mmap() }

  init(_ placement: Placement) { self.placement = placement }

  mutating func run<Result>(_ body: () -> Result) -> Result {
    placement == .region(.chunk) ? Region.enter(&arena, body) : body()
  }
}

/// Stops with a message when the workload has no sensible region over `stack`.
func requireStack(_ placement: Placement, notChunk workload: String) {
  if placement == .region(.chunk) {
    _writeToStandardError(
      "allocbench: \(workload) keeps blocks across rounds; the chunk stack does not apply\n")
    exit(2)
  }
}

/// Rounds of 4096 blocks of 64 B: allocated (each touched), then all freed.
func runSmall(_ placement: Placement, rounds: Int) -> UInt {
  let blocks = 4096
  let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: blocks)
  defer { pointers.deallocate() }
  var rounder = Rounds(placement)
  return wholeRun(placement) {
    var checksum: UInt = 0
    for _ in 0..<rounds {
      checksum &+= rounder.run {
        var sum: UInt = 0
        for index in 0..<blocks {
          let block = malloc(64)!
          block.storeBytes(of: UInt8(truncatingIfNeeded: index), as: UInt8.self)
          pointers[index] = block
          sum &+= UInt(bitPattern: block)
        }
        for index in 0..<blocks { free(pointers[index]) }
        return sum
      }
    }
    return checksum
  }
}

/// A working set of 8192 blocks; each step frees a random one and puts a new block of a
/// log-uniform size between 8 B and 4 KiB in its place, touched at both ends.
func runMixed(_ placement: Placement, steps: Int) -> UInt {
  requireStack(placement, notChunk: "mixed")
  let slots = 8192
  let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: slots)
  pointers.initialize(repeating: nil, count: slots)
  defer { pointers.deallocate() }
  return wholeRun(placement) {
    var random = Random(seed: 0x6d69_7865_64)
    var checksum: UInt = 0
    for _ in 0..<steps {
      let bits = random.next()
      let slot = Int(bits % UInt64(slots))
      free(pointers[slot])
      let exponent = 3 + Int((bits >> 20) % 9)
      let byteCount = (1 << exponent) + Int((bits >> 32) % UInt64(1 << exponent))
      let block = malloc(byteCount)!
      block.storeBytes(of: 1, as: UInt8.self)
      block.storeBytes(of: 2, toByteOffset: byteCount - 1, as: UInt8.self)
      pointers[slot] = block
      checksum &+= UInt(bitPattern: block)
    }
    for slot in 0..<slots { free(pointers[slot]) }
    return checksum
  }
}

/// Rounds in which four buffers grow together from 16 B to 64 KiB by `realloc`, 25 % (plus
/// 16 B) a step, each step writing the buffer's last byte; then all four are freed.
func runRealloc(_ placement: Placement, rounds: Int) -> UInt {
  let buffers = 4
  let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: buffers)
  defer { pointers.deallocate() }
  var rounder = Rounds(placement)
  return wholeRun(placement) {
    var checksum: UInt = 0
    for _ in 0..<rounds {
      checksum &+= rounder.run {
        for index in 0..<buffers { pointers[index] = malloc(16)! }
        var byteCount = 16
        while byteCount < 65536 {
          byteCount = min(65536, byteCount + byteCount / 4 + 16)
          for index in 0..<buffers {
            let block = realloc(pointers[index], byteCount)!
            block.storeBytes(of: UInt8(index), toByteOffset: byteCount - 1, as: UInt8.self)
            pointers[index] = block
          }
        }
        var sum: UInt = 0
        for index in 0..<buffers {
          sum &+= UInt(bitPattern: pointers[index])
          free(pointers[index])
        }
        return sum
      }
    }
    return checksum
  }
}

/// A small deterministic generator (xorshift64*), so every configuration sees the same
/// sequence of sizes and choices.
struct Random {
  var state: UInt64

  init(seed: UInt64) { state = seed | 1 }

  mutating func next() -> UInt64 {
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return state &* 0x2545_f491_4f6c_dd1d
  }
}

enum Clock {
  /// Monotonic seconds.
  static var seconds: Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
