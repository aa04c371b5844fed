// allocbench: allocation workloads that Benchmarks/run times under each allocator
// configuration: the ground (glibc, or a preloaded jemalloc / mimalloc behind the Regions
// hook) and regions over one of several stacks.
//
//   swift run -c release allocbench WORKLOAD [--mode malloc|region] [--stack NAME] [--quick]
//
// Workloads (each calls the C malloc family, as any code in the process does):
//   small      4096 blocks of 64 B allocated, touched and freed, round after round
//   mixed      a working set of 8192 blocks, one replaced at a time by a block of 8 B – 4 KiB
//              (log-uniform sizes), each new block touched at both ends
//   realloc    four buffers grown together from 16 B to 64 KiB by realloc (+25 % a step)
//   fragment   the fragmentation pattern: cells of 16–64 B, nine in ten freed, the scattered
//              tenth kept, then cells of another size class (see Fragmentation.swift)
//   workers    N workers (--workers 1|2, a task group) building and dropping binary trees;
//              with --mode region all in one shared region, or with --region-per-worker each
//              worker in a region of its own
//   requests   2 × cores concurrent tasks, each handling requests one after another: Foundation
//              JSON decode of 4 KiB, an await, a dictionary, a response string; with
//              --mode region --stack chunk, a region per request (Requests.swift)
//   probe      which allocator serves malloc outside regions, checked by behaviour
//
// Stacks for --mode region: `chunk` (Chunk(1 MiB) { Mmap() }, a fresh region per round),
// `sizeclasses` (SizeClasses { Mmap() }, one region for the whole run), `bonwick`
// (Bonwick { Mmap() }, one region for the whole run), `perthread` (PerThread { SizeClasses {
// Mmap() } }, a thread-safe stack that one region shares between threads without its lock).
//
// Output: `result KEY VALUE` lines on standard output, read by Benchmarks/Suite/suite.py.
import Regions

#if canImport(Glibc)
  import Glibc
#endif

/// Where the workload's allocations go.
enum Placement: Equatable {
  case ground
  case region(StackChoice)
}

enum StackChoice: String {
  case chunk, sizeclasses, bonwick, perthread
}

func usage() -> Never {
  _writeToStandardError(
    """
    usage: allocbench small|mixed|realloc|fragment|workers|requests|probe [--mode malloc|region]
                      [--stack chunk|sizeclasses|bonwick|perthread] [--workers N]
                      [--region-per-worker] [--quick]

    """)
  exit(2)
}

var arguments = CommandLine.arguments.dropFirst()
guard let workload = arguments.popFirst() else { usage() }
var placement = Placement.ground
var stack = StackChoice.chunk
var isRegionMode = false
var workers = 1
var regionPerWorker = false
var quick = false
while let argument = arguments.popFirst() {
  switch argument {
  case "--mode":
    switch arguments.popFirst() {
    case "malloc": isRegionMode = false
    case "region": isRegionMode = true
    default: usage()
    }
  case "--stack":
    guard let value = arguments.popFirst(), let choice = StackChoice(rawValue: value) else {
      usage()
    }
    stack = choice
  case "--workers":
    guard let value = arguments.popFirst(), let count = Int(value), count >= 1 else { usage() }
    workers = count
  case "--region-per-worker":
    regionPerWorker = true
  case "--quick":
    quick = true
  default:
    usage()
  }
}
if isRegionMode { placement = .region(stack) }
if regionPerWorker && (workload != "workers" || !isRegionMode) { usage() }

let scale = quick ? 1 : 10
let start = Clock.seconds
switch workload {
case "small":
  report("checksum", String(runSmall(placement, rounds: quick ? 200 : 5000)))
case "mixed":
  report("checksum", String(runMixed(placement, steps: 1_000_000 * scale)))
case "realloc":
  report("checksum", String(runRealloc(placement, rounds: 400 * scale)))
case "fragment":
  for (key, value) in runFragmentation(placement, cells: 1_000_000 * scale) {
    report(key, String(value))
  }
case "workers":
  let check = await runWorkers(
    placement, workers: workers, trees: 40 * scale, regionPerWorker: regionPerWorker)
  report("checksum", String(check))
case "requests":
  let tasks = 2 * sysconf(Int32(_SC_NPROCESSORS_ONLN))
  report("checksum", String(await runRequests(placement, tasks: tasks, requests: 400 * scale)))
case "probe":
  for (key, value) in probeGround() { report(key, value) }
default:
  usage()
}
report("seconds", String(Clock.seconds - start))
report("workload", workload)

func report(_ key: String, _ value: String) {
  print("result \(key) \(value)")
}
