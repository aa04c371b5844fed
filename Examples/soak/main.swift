// soak: the allocator stress run (mimalloc's test-stress, in regions), as long as you like.
//
//   swift run -c release soak --ops 10000000 [--threads 8] [--seed N]
//
// Threads allocate blocks of mixed sizes in one shared region, pass them to each other through
// a shared array of slots, enter short inner regions whose blocks escape, and come and go in
// rounds; every block's pattern is checked when it is freed. Prints the operations per
// second and the violations found (a block changed, or the shared stack's counts not equal at
// the end), and exits 1 if there are any.
import Regions
import Stress

#if canImport(Glibc)
  import Glibc
#endif

var options = StressRun.Options()
var operations = 10_000_000
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else {
    _writeToStandardError("usage: soak [--ops N] [--threads N] [--seed N]\n")
    exit(2)
  }
  switch argument {
  case "--ops": operations = value
  case "--threads": options.threads = value
  case "--seed": options.seed = UInt64(value)
  default:
    _writeToStandardError("usage: soak [--ops N] [--threads N] [--seed N]\n")
    exit(2)
  }
}
options.rounds = Swift.max(1, operations / (options.threads * options.operationsPerRound))
let outcome = StressRun.run(options)
let lost = outcome.sharedAllocations - outcome.sharedDeallocations
let violations =
  outcome.violations + (lost != 0 ? 1 : 0) + (outcome.withheldSpansAtEnd != 0 ? 1 : 0)
print(
  "soak: \(options.operations) operations on \(options.threads) threads in \(options.rounds) rounds, "
    + "\(outcome.innerRegions) inner regions, \(Int(Double(options.operations) / outcome.seconds)) ops/s"
)
print(
  "soak: the shared stack saw \(outcome.sharedAllocations) allocations and \(outcome.sharedDeallocations) deallocations; \(outcome.withheldSpansAtEnd) spans withheld at the end"
)
print("soak: violations \(violations)")
exit(violations == 0 ? 0 : 1)
