// layerbench: nanoseconds per allocate+deallocate pair through composed layers, against the C
// library's malloc+free measured in the same run.
//
// The baseline calls the C library's malloc and free themselves (found with
// `dlsym(RTLD_NEXT, …)`), because this executable links the Regions hook, which interposes
// malloc; the hook itself (outside every region) is measured in a row of its own. Every
// catalog layer has a row per size too (Catalog.swift says which parent each one wraps).
//
//   swift run -c release layerbench           # 9 rounds, ~40 ms per measurement
//   swift run -c release layerbench --quick   # 3 rounds, ~5 ms per measurement
//   swift run -c release layerbench --tsv     # the rows as tab-separated values (for scripts)
//
// Method: after a calibration pass (which also warms up), every configuration is measured
// once per round, in an order that rotates from round to round; the table shows the median
// over the rounds (and the fastest round). Each configuration's loop is its own `@inline(never)` function over a
// concrete stack type, so the optimizer specializes it (Docs/Benchmarks.md shows how to check
// the disassembly), and the loop folds every pointer into a checksum the program prints, so
// no allocation can be optimized away.
import BenchSupport
import Layers

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - The stacks

typealias ChunkStack = Chunk<Mmap>
typealias ChunkSystemStack = Chunk<ProcessAllocator>
typealias StatsChunkStack = Stats<Chunk<Mmap>>
/// The card's stack.
typealias CardStack = Stats<Chunk<Batch<Check<Mmap>>>>

func makeChunk() -> ChunkStack { Chunk(65536) { Mmap() } }
func makeChunkSystem() -> ChunkSystemStack { Chunk(65536) { ProcessAllocator() } }
func makeStatsChunk() -> StatsChunkStack { Stats { Chunk(65536) { Mmap() } } }
func makeCardStack() -> CardStack { Stats { Chunk(4096) { Batch { Check { Mmap() } } } } }

/// Blocks are asked for with malloc's own guarantee.
let alignment = 16

// MARK: - Timed loops (one specialized function per stack)

/// `iterations` allocate+deallocate pairs; returns a checksum of the pointers.
@inline(__always)
func pairs<L: Layer>(_ layer: inout L, byteCount: Int, iterations: Int) -> UInt {
  var checksum: UInt = 0
  for _ in 0..<iterations {
    let block = layer.allocate(byteCount: byteCount, alignment: alignment)!
    checksum = checksum &* 31 &+ UInt(bitPattern: block)
    layer.deallocate(block, byteCount: byteCount, alignment: alignment)
  }
  return checksum
}

/// `count` allocations with no deallocation (the caller resets, untimed).
@inline(__always)
func allocations<L: Layer>(_ layer: inout L, byteCount: Int, count: Int) -> UInt {
  var checksum: UInt = 0
  for _ in 0..<count {
    let block = layer.allocate(byteCount: byteCount, alignment: alignment)!
    checksum = checksum &* 31 &+ UInt(bitPattern: block)
  }
  return checksum
}

@inline(never)
func chunkPairs(_ layer: inout ChunkStack, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

@inline(never)
func statsChunkPairs(_ layer: inout StatsChunkStack, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

@inline(never)
func cardStackPairs(_ layer: inout CardStack, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

@inline(never)
func systemPairs(_ layer: inout ProcessAllocator, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

@inline(never)
func mmapPairs(_ layer: inout Mmap, byteCount: Int, iterations: Int) -> UInt {
  pairs(&layer, byteCount: byteCount, iterations: iterations)
}

@inline(never)
func chunkAllocations(_ layer: inout ChunkStack, byteCount: Int, count: Int) -> UInt {
  allocations(&layer, byteCount: byteCount, count: count)
}

@inline(never)
func chunkSystemAllocations(_ layer: inout ChunkSystemStack, byteCount: Int, count: Int) -> UInt {
  allocations(&layer, byteCount: byteCount, count: count)
}

@inline(never)
func statsChunkAllocations(_ layer: inout StatsChunkStack, byteCount: Int, count: Int) -> UInt {
  allocations(&layer, byteCount: byteCount, count: count)
}

@inline(never)
func cardStackAllocations(_ layer: inout CardStack, byteCount: Int, count: Int) -> UInt {
  allocations(&layer, byteCount: byteCount, count: count)
}

let quick = CommandLine.arguments.contains("--quick")
/// `--cycle`: one allocate/deallocate/reset cycle through every catalog stack (and the
/// deliberately broken layer of BrokenLayer.swift), then exit: the functions
/// Tools/check-allocation-path walks, run once to show they work.
if CommandLine.arguments.contains("--cycle") {
  print("layerbench --cycle: every layer once (checksum \(cycleEveryLayer() % 1000))")
  exit(0)
}
let tabSeparated = CommandLine.arguments.contains("--tsv")
let rounds = quick ? 3 : 9
let targetNanoseconds: UInt64 = quick ? 5_000_000 : 40_000_000
let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

var configurations: [Configuration] = []
for byteCount in [16, 64, 256] {
  configurations += [
    Configuration(layer: "malloc/free", byteCount: byteCount) { operations in
      timed { libcPairs(byteCount: byteCount, iterations: operations) }
    },
    Configuration(
      layer: "Chunk(65536) { Mmap() }", byteCount: byteCount,
      run: pairRunner(makeChunk, chunkPairs, byteCount: byteCount)),
    Configuration(
      layer: "Chunk(65536) { Mmap() }", byteCount: byteCount, isAllocateOnly: true,
      run: allocationRunner(makeChunk, chunkAllocations, byteCount: byteCount)),
    // The same with chunks from malloc, to separate Chunk's cost from mmap's.
    Configuration(
      layer: "Chunk(65536) { ProcessAllocator() }", byteCount: byteCount, isAllocateOnly: true,
      run: allocationRunner(makeChunkSystem, chunkSystemAllocations, byteCount: byteCount)),
    Configuration(
      layer: "Stats { Chunk(65536) { Mmap() } }", byteCount: byteCount,
      run: pairRunner(makeStatsChunk, statsChunkPairs, byteCount: byteCount)),
    Configuration(
      layer: "Stats { Chunk(65536) { Mmap() } }", byteCount: byteCount, isAllocateOnly: true,
      run: allocationRunner(makeStatsChunk, statsChunkAllocations, byteCount: byteCount)),
    Configuration(
      layer: "Stats { Chunk(4096) { Batch { Check { Mmap() } } } }", byteCount: byteCount,
      run: pairRunner(makeCardStack, cardStackPairs, byteCount: byteCount)),
    Configuration(
      layer: "Stats { Chunk(4096) { Batch { Check { Mmap() } } } }", byteCount: byteCount,
      isAllocateOnly: true,
      run: allocationRunner(makeCardStack, cardStackAllocations, byteCount: byteCount)),
    Configuration(
      layer: "ProcessAllocator()", byteCount: byteCount,
      run: pairRunner(ProcessAllocator.init, systemPairs, byteCount: byteCount)),
  ]
  configurations += catalogConfigurations(byteCount: byteCount)  // Catalog.swift
}
configurations += [
  Configuration(layer: "malloc/free", byteCount: pageSize) { operations in
    timed { libcPairs(byteCount: pageSize, iterations: operations) }
  },
  Configuration(
    layer: "Mmap()", byteCount: pageSize,
    run: pairRunner(Mmap.init, mmapPairs, byteCount: pageSize)),
  catalogRow("GroundPages()", byteCount: pageSize) { GroundPages() },
]

if mallocIsInterposed {
  for byteCount in [16, 256] {
    configurations.append(
      Configuration(layer: "malloc/free through the hook, outside regions", byteCount: byteCount) {
        operations in timed { processMallocPairs(byteCount: byteCount, iterations: operations) }
      })
  }
}

// MARK: - Running

var checksum: UInt = 0

// Calibrate (this is also the warm-up): grow the operation count until one measurement
// takes about the target time.
for index in configurations.indices {
  var operations = 1024
  while true {
    let (elapsed, sum) = configurations[index].run(operations)
    checksum &+= sum
    if elapsed >= targetNanoseconds / 4 || operations >= 1 << 30 {
      let scale = Double(targetNanoseconds) / Double(Swift.max(elapsed, 1))
      configurations[index].operations = Swift.max(1024, Int(Double(operations) * scale))
      break
    }
    operations *= 4
  }
}

for round in 0..<rounds {
  // Rotate the order so no configuration always runs first or after the same neighbour.
  let count = configurations.count
  for step in 0..<count {
    let index = (step + round * 5) % count
    let (elapsed, sum) = configurations[index].run(configurations[index].operations)
    checksum &+= sum
    configurations[index].samples.append(
      Double(elapsed) / Double(configurations[index].operations))
  }
}

let baseline = Dictionary(
  configurations.filter { $0.layer == "malloc/free" }.map { ($0.byteCount, median($0.samples)) },
  uniquingKeysWith: { first, _ in first })

if tabSeparated {
  print("layer\tsize\toperation\tmedian_ns\tfastest_ns\tratio_to_malloc_free")
  for configuration in configurations {
    let value = median(configuration.samples)
    let ratio = baseline[configuration.byteCount].map { value / $0 } ?? .nan
    let operation = configuration.isAllocateOnly ? "allocate only" : "allocate+free"
    let fastest = configuration.samples.min() ?? 0
    print(
      "\(configuration.layer)\t\(configuration.byteCount)\t\(operation)\t\(value)\t\(fastest)\t\(ratio)"
    )
  }
  exit(0)
}
print("layerbench: \(rounds) rounds, median ns per operation (fastest round in brackets)")
print("")
/// The table's columns (a Markdown table): width and whether the text is left-aligned.
let columns: [(width: Int, left: Bool)] = [
  (56, true), (5, false), (15, true), (16, false), (13, false),
]

func row(_ cells: [String]) -> String {
  let texts = zip(cells, columns).map { padded($0, $1.width, left: $1.left) }
  return "| " + texts.joined(separator: " | ") + " |"
}

print(row(["layer", "size", "operation", "ns", "÷ malloc+free"]))
let rules = columns.map { column in
  let dashes = String(repeating: "-", count: column.width + 1)
  return column.left ? ":" + dashes : dashes + ":"
}
print("|" + rules.joined(separator: "|") + "|")
for configuration in configurations.sorted(by: { $0.byteCount < $1.byteCount }) {
  let value = median(configuration.samples)
  let fastest = configuration.samples.min() ?? 0
  let ratio = baseline[configuration.byteCount].map { value / $0 } ?? .nan
  let operation = configuration.isAllocateOnly ? "allocate only" : "allocate+free"
  let ns = "\(formatted(value, 2)) [\(formatted(fastest, 2))]"
  let size = String(configuration.byteCount)
  print(row([configuration.layer, size, operation, ns, formatted(ratio, 3)]))
}
print("")
print("Target: Chunk's fast path (allocate+free pair) ≤ 1/4 of a malloc+free pair.")
for configuration in configurations
where configuration.layer == "Chunk(65536) { Mmap() }" && !configuration.isAllocateOnly {
  let ratio = median(configuration.samples) / baseline[configuration.byteCount]!
  let verdict = ratio <= 0.25 ? "met" : "NOT met"
  print("  \(configuration.byteCount) B: \(formatted(ratio, 3)) of malloc+free — \(verdict)")
}
print(
  "malloc/free rows call the C library's malloc and free"
    + (mallocIsInterposed
      ? " (this process interposes malloc: the hook has rows of its own)." : "."))
print("(checksum \(String(checksum, radix: 16)))")
