// Binary trees, Benchmarks Game rules: a stretch tree of depth N+1, a long-lived tree of
// depth N, and 2^(N-d+4) trees at each depth d = 4, 6, …, N, each built, checked and dropped.
//
//   swift run -c release binarytree 21                 # regions (default)
//   swift run -c release binarytree 21 --mode malloc   # the ground allocator only
//   swift run -c release binarytree 18 --mode pool     # one SizeClasses region for them all
//   swift run -c release binarytree 18 --profile heap.json   # that region, profiled
//
// In region mode the temporary trees are built in a fresh region per batch (65,536 nodes,
// 3 MiB, or one tree where a tree is larger), served by a bump allocator; the long-lived tree
// stays on the ground.
// Elapsed seconds go to standard error.
//
// Built with `-D BINARYTREE_GROUND` (the `binarytree-ground` benchmark target shares this
// file) the program does not link Regions at all, so malloc is the C library's own, and only
// `--mode malloc` exists: the baseline for the interposer's cost outside regions.
#if !BINARYTREE_GROUND
  import Regions
#endif

#if canImport(Glibc)
  import Glibc
#endif

final class TreeNode {
  let left: TreeNode?
  let right: TreeNode?

  init(left: TreeNode?, right: TreeNode?) {
    self.left = left
    self.right = right
  }

  var check: Int {
    guard let left, let right else { return 1 }
    return 1 + left.check + right.check
  }
}

func bottomUp(_ depth: Int) -> TreeNode {
  depth > 0
    ? TreeNode(left: bottomUp(depth - 1), right: bottomUp(depth - 1))
    : TreeNode(left: nil, right: nil)
}

enum Mode: String {
  case region, malloc, pool
}

func usage() -> Never {
  _writeToStandardError("usage: binarytree [N] [--mode region|malloc|pool] [--profile PATH]\n")
  exit(2)
}

#if BINARYTREE_GROUND
  func _writeToStandardError(_ message: String) {
    var message = message
    message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
  }
  var mode = Mode.malloc
#else
  var mode = Mode.region
#endif
var maxDepthArgument = 10
var profilePath: String? = nil
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  if argument == "--profile" {
    guard let value = arguments.popFirst() else { usage() }
    profilePath = value
    mode = .pool
  } else if argument == "--mode" {
    guard let value = arguments.popFirst(), let parsed = Mode(rawValue: value) else { usage() }
    mode = parsed
  } else if let depth = Int(argument), depth >= 0, depth <= 30 {
    maxDepthArgument = depth
  } else {
    usage()
  }
}
#if BINARYTREE_GROUND
  if mode != .malloc { usage() }  // built without Regions
#endif

#if !BINARYTREE_GROUND
  /// The stack each batch of temporary trees is built in: a bump allocator over pages.
  typealias BatchStack = Chunk<Mmap>
#endif
let chunkSize = 1 << 20
/// Nodes per region before it is closed and the next entered: few enough that the chunks the
/// next region reuses (from the runtime's page cache) are still in the CPU's cache. A batch
/// of 2^20 nodes (48 MiB) takes about 9 % longer (Docs/PerformanceNotes.md).
let nodesPerBatch = 1 << 16

let minDepth = 4
let maxDepth = max(minDepth + 2, maxDepthArgument)
let start = timespec.now

func trees(depth: Int, count: Int) -> Int {
  var check = 0
  for _ in 0..<count { check += bottomUp(depth).check }
  return check
}

@MainActor func temporaryTrees(depth: Int, count: Int) -> Int {
  switch mode {
  case .malloc, .pool: trees(depth: depth, count: count)
  case .region: regionTrees(depth: depth, count: count)
  }
}

#if BINARYTREE_GROUND
  func regionTrees(depth: Int, count: Int) -> Int { usage() }
  func inPool(_ body: () -> Void) { body() }
  func outsidePool<T>(_ body: () -> T) -> T { body() }
#else
  /// `--mode pool` and `--profile`: every temporary tree in one region over a size-class pool
  /// (profiled with `--profile`), which frees each node as ARC drops it.
  @MainActor func inPool(_ body: () -> Void) {
    guard mode == .pool else { return body() }
    if let profilePath {
      var stack = Profile(writingTo: profilePath) { SizeClasses { Mmap() } }
      Region.enter(&stack, body)
      _writeToStandardError("profile written to \(profilePath) and \(stack.flameGraphPath)\n")
    } else {
      Region.enter(SizeClasses { Mmap() }, body)
    }
  }

  /// The long-lived tree, on the ground in every mode.
  @MainActor func outsidePool<T>(_ body: () -> T) -> T {
    mode == .pool ? Region.escape(body) : body()
  }

  @MainActor func regionTrees(depth: Int, count: Int) -> Int {
    let perBatch = max(1, nodesPerBatch >> (depth + 1))
    var stack = Chunk(chunkSize) { Mmap() }
    var check = 0
    var done = 0
    while done < count {
      let batch = min(perBatch, count - done)
      check += Region.enter(&stack) { trees(depth: depth, count: batch) }
      done += batch
    }
    return check
  }
#endif

let stretchDepth = maxDepth + 1
var longLived: TreeNode? = nil
inPool {
  print(
    "stretch tree of depth \(stretchDepth)\t check: \(temporaryTrees(depth: stretchDepth, count: 1))"
  )
  longLived = outsidePool { bottomUp(maxDepth) }
  for depth in stride(from: minDepth, through: maxDepth, by: 2) {
    let iterations = 1 << (maxDepth - depth + minDepth)
    let check = temporaryTrees(depth: depth, count: iterations)
    print("\(iterations)\t trees of depth \(depth)\t check: \(check)")
  }
}
print("long lived tree of depth \(maxDepth)\t check: \(longLived!.check)")

let elapsed = timespec.now.seconds - start.seconds
_writeToStandardError("elapsed \(formattedSeconds(elapsed)) s (mode \(mode.rawValue))\n")

extension timespec {
  static var now: timespec {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return time
  }
  var seconds: Double { Double(tv_sec) + Double(tv_nsec) / 1e9 }
}

func formattedSeconds(_ seconds: Double) -> String {
  let millis = Int((seconds * 1000).rounded())
  let fraction = String(millis % 1000)
  return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}
