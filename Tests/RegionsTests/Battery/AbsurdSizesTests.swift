import Glibc
import Regions
import RegionsTestSupport
import Testing

// glibc's tst-malloc-too-large, tst-calloc, tst-reallocarray, tst-posix_memalign, tst-memalign,
// tst-valloc and tst-pvalloc, run outside every region and inside two (a bump stack and a
// pool): every call with an impossible size returns NULL with errno ENOMEM (never a stop, a
// crash, or a partial allocation), bad alignments are refused as POSIX says, and the edge
// cases behave as glibc documents them.

// Every call goes through `Opaque` (or opaqueMalloc / opaqueFree): in a release build the
// optimizer would otherwise drop calls whose results it thinks it knows.

/// Where a case runs.
enum Place: String, CaseIterable, CustomTestStringConvertible {
  case outside, chunk, sizeClasses

  var testDescription: String { rawValue }

  func run(_ body: () -> Void) {
    switch self {
    case .outside: body()
    case .chunk: Region.enter(Chunk(65536) { Mmap() }, body)
    case .sizeClasses: Region.enter(Stats { SizeClasses { Mmap() } }, body)
    }
  }
}

/// Sizes no allocator can serve: SIZE_MAX down in steps over several pages, around
/// PTRDIFF_MAX, and the powers of two from 2^46.
let impossibleSizes: [UInt] = {
  var sizes: [UInt] = []
  for step in 0..<64 { sizes.append(UInt.max - UInt(step)) }
  for step in stride(from: 64, to: 5 * 4096, by: 61) { sizes.append(UInt.max - UInt(step)) }
  for step in 0..<32 { sizes.append(UInt(Int.max) &+ UInt(step)) }
  for step in 0..<32 { sizes.append(UInt(Int.max) - UInt(step)) }
  for shift in 46..<64 { sizes.append(1 << UInt(shift)) }
  return sizes
}()

/// Calls `body` with errno set to a sentinel; returns errno afterwards.
func errnoAfter(_ body: () -> Void) -> Int32 {
  errno = 1789
  body()
  return errno
}

@Suite("Absurd sizes and edge cases, inside regions and out", .hookMode)
struct AbsurdSizesTests {
  @Test(arguments: Place.allCases)
  func impossibleSizesReturnNullWithENOMEM(_ place: Place) {
    var failures: [String] = []
    place.run {
      for size in impossibleSizes {
        let n = Int(bitPattern: size)
        func expectENOMEM(_ name: String, _ call: () -> UnsafeMutableRawPointer?) {
          var result: UnsafeMutableRawPointer? = nil
          let error = errnoAfter { result = call() }
          if result != nil || error != ENOMEM {
            failures.append("\(name)(\(size)): \(result as Any), errno \(error)")
          }
          if let result { opaqueFree(result) }
        }
        opaqueFree(opaqueMalloc(16))  // glibc's bug 22375: a free before each call
        expectENOMEM("malloc") { opaqueMalloc(n) }
        expectENOMEM("calloc(1, n)") { Opaque.calloc(1, n) }
        expectENOMEM("calloc(n, 1)") { Opaque.calloc(n, 1) }
        expectENOMEM("realloc(NULL, n)") { Opaque.realloc(nil, n) }
        expectENOMEM("reallocarray(NULL, 1, n)") { Opaque.reallocarray(nil, 1, n) }
        expectENOMEM("memalign(16, n)") { Opaque.memalign(16, n) }
        expectENOMEM("aligned_alloc(64, n)") { Opaque.alignedAlloc(64, n) }
        expectENOMEM("valloc") { Opaque.valloc(n) }
        expectENOMEM("pvalloc") { Opaque.pvalloc(n) }
        var pointer: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(bitPattern: 0x1234)
        let status = Opaque.posixMemalign(&pointer, 64, n)
        if status != ENOMEM || pointer != UnsafeMutableRawPointer(bitPattern: 0x1234) {
          failures.append("posix_memalign(64, \(size)): \(status), \(pointer as Any)")
        }
        // A block keeps its contents when it cannot grow.
        let block = opaqueMalloc(16)!
        block.storeBytes(of: 0x5A5A, as: Int.self)
        expectENOMEM("realloc(p, n)") { Opaque.realloc(block, n) }
        if block.load(as: Int.self) != 0x5A5A {
          failures.append("realloc(p, \(size)) lost p's contents")
        }
        opaqueFree(block)
      }
    }
    #expect(failures.isEmpty, "\(failures.prefix(8))")
  }

  @Test(arguments: Place.allCases)
  func overflowingProductsReturnNullWithENOMEM(_ place: Place) {
    let pairs: [(Int, Int)] = [
      (2, Int(bitPattern: UInt.max / 2 + 1)), (Int(bitPattern: UInt.max / 2 + 1), 2),
      (1 << 32, 1 << 32), (65537, Int(bitPattern: UInt.max / 65537 + 1)),
      (Int(bitPattern: UInt.max / 65537 + 1), 65537), (4, Int(bitPattern: UInt.max / 4)),
      (1, -1), (Int.max, Int.max),
    ]
    var failures: [String] = []
    place.run {
      for (count, size) in pairs {
        var result: UnsafeMutableRawPointer? = nil
        var error = errnoAfter { result = Opaque.calloc(count, size) }
        if result != nil || error != ENOMEM { failures.append("calloc(\(count), \(size))") }
        error = errnoAfter { result = Opaque.reallocarray(nil, count, size) }
        if result != nil || error != ENOMEM {
          failures.append("reallocarray(NULL, \(count), \(size))")
        }
        let block = opaqueMalloc(32)!
        error = errnoAfter { result = Opaque.reallocarray(block, count, size) }
        if result != nil || error != ENOMEM {
          failures.append("reallocarray(p, \(count), \(size)) = \(result as Any), errno \(error)")
        }
        opaqueFree(block)
      }
    }
    #expect(failures.isEmpty, "\(failures)")
  }

  @Test(arguments: Place.allCases)
  func badAlignmentsAreRefusedAsPOSIXSays(_ place: Place) {
    var failures: [String] = []
    place.run {
      // posix_memalign: a power of two, a multiple of sizeof(void *): else EINVAL, *p untouched.
      for alignment in [0, 1, 2, 4, 3, 24, 0x300, 65, Int.max] {
        var pointer: UnsafeMutableRawPointer? = UnsafeMutableRawPointer(bitPattern: 0x1234)
        let error = errnoAfter {
          if Opaque.posixMemalign(&pointer, alignment, 64) != EINVAL {
            failures.append("posix_memalign(\(alignment))")
          }
        }
        if pointer != UnsafeMutableRawPointer(bitPattern: 0x1234) || error != 1789 {
          failures.append("posix_memalign(\(alignment)) touched *p or errno")
        }
      }
      // memalign rounds an alignment up to a power of two, as glibc does; EINVAL past 2^63.
      for alignment in [0, 3, 5, 17, 24, 48, 65, 100, 0x300, 1000, 4097] {
        let expected =
          alignment <= 1 ? 1 : 1 << (Int.bitWidth - (alignment - 1).leadingZeroBitCount)
        guard let block = Opaque.memalign(alignment, 10) else {
          failures.append("memalign(\(alignment), 10) failed")
          continue
        }
        if Int(bitPattern: block) % Swift.max(expected, 1) != 0 {
          failures.append("memalign(\(alignment)) misaligned")
        }
        opaqueFree(block)
      }
      var result: UnsafeMutableRawPointer? = nil
      let error = errnoAfter { result = Opaque.memalign(Int(bitPattern: UInt.max), 4096) }
      if result != nil || error != EINVAL { failures.append("memalign(SIZE_MAX): \(error)") }
    }
    #expect(failures.isEmpty, "\(failures)")
  }

  @Test(arguments: Place.allCases)
  func edgeCasesBehaveAsGlibcDocumentsThem(_ place: Place) {
    var failures: [String] = []
    place.run {
      // opaqueMalloc(0): a distinct, freeable pointer each time.
      let zero = opaqueMalloc(0)
      let other = opaqueMalloc(0)
      if zero == nil || other == nil || zero == other { failures.append("malloc(0)") }
      opaqueFree(zero)
      opaqueFree(other)
      // opaqueFree(NULL) does nothing and leaves errno alone.
      if errnoAfter({ opaqueFree(nil) }) != 1789 { failures.append("free(NULL) changed errno") }
      if Opaque.usableSize(nil) != 0 { failures.append("malloc_usable_size(NULL)") }
      // Opaque.realloc(NULL, n) is opaqueMalloc(n); Opaque.realloc(p, 0) frees p and returns NULL, errno kept.
      guard let grown = Opaque.realloc(nil, 10) else { return failures.append("realloc(NULL, 10)") }
      if Opaque.usableSize(grown) < 10 { failures.append("realloc(NULL, 10)'s size") }
      var result: UnsafeMutableRawPointer? = grown
      if errnoAfter({ result = Opaque.realloc(grown, 0) }) != 1789 || result != nil {
        failures.append("realloc(p, 0)")
      }
      // calloc zeroes memory, also memory a free just gave back dirty.
      for size in [16, 100, 4000, 70_000] {
        let dirty = opaqueMalloc(size)!
        dirty.initializeMemory(as: UInt8.self, repeating: 0xFF, count: size)
        opaqueFree(dirty)
        let clean = Opaque.calloc(1, size)!.assumingMemoryBound(to: UInt8.self)
        if (0..<size).contains(where: { clean[$0] != 0 }) {
          failures.append("calloc(1, \(size)) not zero")
        }
        opaqueFree(clean)
      }
      // Aligned families: aligned, usable, freed with free, grown with realloc.
      for alignment in [16, 64, 4096, 1 << 16] {
        let block = Opaque.alignedAlloc(alignment, alignment)!
        if Int(bitPattern: block) % alignment != 0 {
          failures.append("aligned_alloc(\(alignment))")
        }
        block.storeBytes(of: 42, as: Int.self)
        let moved = Opaque.realloc(block, alignment * 4)!
        if moved.load(as: Int.self) != 42 {
          failures.append("realloc of Opaque.alignedAlloc(\(alignment))")
        }
        opaqueFree(moved)
      }
      for size in [0, 1, 4095, 4096, 4097] {
        let page = Opaque.valloc(size)!
        let rounded = Opaque.pvalloc(size)!
        if Int(bitPattern: page) % 4096 != 0 || Int(bitPattern: rounded) % 4096 != 0 {
          failures.append("valloc/Opaque.pvalloc(\(size)) not page-aligned")
        }
        opaqueFree(page)
        opaqueFree(rounded)
      }
    }
    #expect(failures.isEmpty, "\(failures)")
  }
}
