// Workers in one shared region vs the ground: N child tasks of a task group, each building
// and dropping binary trees (class instances, as in binarytree).
import Regions

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

/// Each of `workers` child tasks builds, checks and drops `trees` trees of depth 14 (32,767
/// nodes each); with a region, all of them allocate in the one region entered around the group,
/// or, with `regionPerWorker`, each child task in a region of its own.
func runWorkers(_ placement: Placement, workers: Int, trees: Int, regionPerWorker: Bool) async
  -> Int
{
  let work: () async -> Int = {
    await withTaskGroup(of: Int.self) { group in
      for _ in 0..<workers {
        group.addTask {
          var check = 0
          for _ in 0..<trees { check += bottomUp(14).check }
          return check
        }
      }
      return await group.reduce(0, +)
    }
  }
  if regionPerWorker, case .region(let stack) = placement {
    return await withTaskGroup(of: Int.self) { group in
      for _ in 0..<workers {
        group.addTask {
          await runWorkers(.region(stack), workers: 1, trees: trees, regionPerWorker: false)
        }
      }
      return await group.reduce(0, +)
    }
  }
  switch placement {
  case .ground: return await work()
  case .region(.chunk): return await Region.enter(Chunk(1 << 20) { Mmap() }) { await work() }
  case .region(.sizeclasses): return await Region.enter(SizeClasses { Mmap() }) { await work() }
  case .region(.bonwick): return await Region.enter(Bonwick { Mmap() }) { await work() }
  case .region(.perthread):
    return await Region.enter(PerThread { SizeClasses { Mmap() } }) { await work() }
  }
}
