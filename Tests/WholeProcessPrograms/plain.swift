// A Swift program built without Regions: classes, arrays, strings, dictionaries and a task
// group. Everything it allocates is freed before it exits.
final class Node {
  var value: Int
  var children: [Node] = []
  init(_ value: Int) { self.value = value }
}

func tree(_ depth: Int) -> Node {
  let node = Node(depth)
  if depth > 0 { node.children = [tree(depth - 1), tree(depth - 1)] }
  return node
}

func sum(_ node: Node) -> Int { node.value + node.children.reduce(0) { $0 + sum($1) } }

func words() -> Int {
  var counts: [String: Int] = [:]
  for i in 0..<5000 { counts["word\(i % 97)", default: 0] += i }
  return counts.values.reduce(0, +) + counts.keys.map(\.count).reduce(0, +)
}

func run() async -> String {
  let total = await withTaskGroup(of: Int.self) { group in
    for depth in 8..<12 { group.addTask { sum(tree(depth)) } }
    var total = 0
    for await value in group { total += value }
    return total
  }
  return "trees \(total) words \(words()) text \(String(repeating: "ab", count: 1000).count)"
}

print(await run())
