// The fragmentation workload: the pattern that made a Lisp runtime's resident set ten times
// its live data. Many small cells are allocated; nine in ten die, the tenth (chosen at random,
// so scattered over the heap) lives on; then the program allocates cells of another size
// class. With one heap, each page keeps a few live cells and cannot be given back, and the
// holes between them do not fit the new size. With lifetime-segregated regions the long-lived
// tenth goes to a region of its own (`Region.escape` from the short-lived one), the
// short-lived cells to a region that is dropped.
import Regions

#if canImport(Glibc)
  import Glibc
#endif

/// A singly linked list of malloc'ed cells; the link is each cell's first word.
struct Cells {
  var head: UnsafeMutableRawPointer?
  var count = 0
  var bytes = 0

  mutating func push(byteCount: Int) {
    let cell = malloc(byteCount)!
    cell.storeBytes(of: head, as: UnsafeMutableRawPointer?.self)
    head = cell
    count += 1
    bytes += byteCount
  }

  mutating func freeAll() {
    var next = head
    while let cell = next {
      next = cell.load(as: UnsafeMutableRawPointer?.self)
      free(cell)
    }
    self = Cells()
  }
}

/// What the workload measured, in bytes (`cells` is a count).
struct FragmentationFigures {
  var cells = 0
  var rssStart = 0
  var rssAfterFirstPhase = 0
  var rssAfterFrees = 0
  var rssDuringSecondPhase = 0
  var rssAfter = 0
  var livePeak = 0
  var liveAfter = 0
  var peakRSS = 0

  var pairs: [(String, Int)] {
    [
      ("cells", cells), ("rss_start_bytes", rssStart),
      ("rss_phase1_bytes", rssAfterFirstPhase), ("rss_after_frees_bytes", rssAfterFrees),
      ("rss_phase3_bytes", rssDuringSecondPhase), ("rss_after_bytes", rssAfter),
      ("live_peak_bytes", livePeak), ("live_after_bytes", liveAfter),
      ("peak_rss_bytes", peakRSS),
    ]
  }
}

/// Phase 1: `cells` cells of 16–64 B, one in ten (at random) kept by `keep`. Phase 2: the
/// other nine in ten are freed. Phase 3: cells of 80–128 B, as many bytes as were freed, then
/// freed. Before the last reading each allocator is asked to give free memory back.
func runFragmentation(_ placement: Placement, cells: Int) -> [(String, Int)] {
  switch placement {
  case .ground: fragmentation(cells: cells, longLived: nil as Chunk<Mmap>?, shortLived: nil)
  case .region(.chunk):
    fragmentation(
      cells: cells, longLived: Chunk(1 << 20) { Mmap() }, shortLived: Chunk(1 << 20) { Mmap() })
  case .region(.sizeclasses):
    fragmentation(
      cells: cells, longLived: SizeClasses { Mmap() }, shortLived: SizeClasses { Mmap() })
  case .region(.bonwick):
    fragmentation(cells: cells, longLived: Bonwick { Mmap() }, shortLived: Bonwick { Mmap() })
  case .region(.perthread):
    fragmentation(
      cells: cells, longLived: PerThread { SizeClasses { Mmap() } },
      shortLived: PerThread { SizeClasses { Mmap() } })
  }
}

/// The workload on one heap (`longLived` nil) or with the long-lived cells in one region and
/// the short-lived ones in another, entered inside it and dropped after each phase.
func fragmentation<Stack: Layer>(
  cells: Int, longLived: Stack?, shortLived: Stack?
) -> [(String, Int)] {
  var figures = FragmentationFigures()
  figures.cells = cells
  figures.rssStart = Memory.residentBytes
  var random = Random(seed: 0x6c69_7370)
  var kept = Cells()
  var freedBytes = 0

  func firstPhases(keep: (inout Cells, Int) -> Void) {
    var short = Cells()
    for _ in 0..<cells {
      let bits = random.next()
      let byteCount = 16 + Int((bits >> 8) % 49)
      if bits % 10 == 0 { keep(&kept, byteCount) } else { short.push(byteCount: byteCount) }
    }
    figures.livePeak = kept.bytes + short.bytes
    figures.rssAfterFirstPhase = Memory.residentBytes
    freedBytes = short.bytes
    short.freeAll()
  }
  func secondPhase() {
    var other = Cells()
    while other.bytes < freedBytes {
      other.push(byteCount: 80 + Int((random.next() >> 8) % 49))
    }
    figures.livePeak = max(figures.livePeak, kept.bytes + other.bytes)
    figures.rssDuringSecondPhase = Memory.residentBytes
    other.freeAll()
  }
  func finish() {
    Memory.releaseFreeMemory()
    figures.rssAfter = Memory.residentBytes
    figures.liveAfter = kept.bytes
    figures.peakRSS = Memory.peakResidentBytes
    kept.freeAll()
  }

  if var longLived, var shortLived {
    Region.enter(&longLived) {
      Region.enter(&shortLived) {
        firstPhases { cells, byteCount in Region.escape { cells.push(byteCount: byteCount) } }
      }
      figures.rssAfterFrees = Memory.residentBytes
      Region.enter(&shortLived) { secondPhase() }
      finish()
    }
  } else {
    firstPhases { cells, byteCount in cells.push(byteCount: byteCount) }
    figures.rssAfterFrees = Memory.residentBytes
    secondPhase()
    finish()
  }
  return figures.pairs
}
