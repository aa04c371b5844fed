/// A profile's bytes by call stack as a flame graph: a self-contained SVG (no scripts, nothing
/// from the network), callers at the bottom, each frame as wide as the bytes allocated under it;
/// hovering a frame shows its function, location and bytes.
struct _FlameGraph {
  let sites: [_ProfileSite]

  /// A frame of the graph: a function on some call stack, with the bytes allocated in it and
  /// below it.
  final class Node {
    let name: String
    var bytes = 0
    var selfBytes = 0
    var children: [String: Node] = [:]
    var order: [String] = []
    init(_ name: String) { self.name = name }

    func child(_ name: String) -> Node {
      if let node = children[name] { return node }
      let node = Node(name)
      children[name] = node
      order.append(name)
      return node
    }
  }

  static let width = 1200.0
  static let rowHeight = 18.0

  func svg() -> String {
    let root = Node("all")
    for site in sites where site.totalBytes > 0 {
      root.bytes += site.totalBytes
      var node = root
      for frame in site.frames.reversed() {  // outermost caller first
        node = node.child(frame.function + (frame.location.map { " (\($0))" } ?? ""))
        node.bytes += site.totalBytes
      }
      node.selfBytes += site.totalBytes
    }
    let depth = Self.depth(root)
    let height = Double(depth + 1) * Self.rowHeight + 40
    var body: [String] = []
    draw(root, x: 10, level: 0, total: Swift.max(root.bytes, 1), height: height, into: &body)
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width + 20))" height="\(Int(height))" \
      viewBox="0 0 \(Int(Self.width + 20)) \(Int(height))" font-family="monospace" font-size="11">
      <rect x="0" y="0" width="100%" height="100%" fill="#fdfdf6"/>
      <text x="10" y="18" font-size="14">Bytes allocated by call stack: \(root.bytes) bytes \
      in \(sites.count) sites</text>
      \(body.joined(separator: "\n"))
      </svg>

      """
  }

  static func depth(_ node: Node) -> Int {
    node.children.values.map { 1 + depth($0) }.max() ?? 0
  }

  func draw(
    _ node: Node, x: Double, level: Int, total: Int, height: Double, into body: inout [String]
  ) {
    let width = Self.width * Double(node.bytes) / Double(total)
    let y = height - Double(level + 1) * Self.rowHeight - 4
    let label = width > 30 ? Self.escape(String(node.name.prefix(Int(width / 7)))) : ""
    let tint = UInt8(truncatingIfNeeded: node.name.utf8.reduce(0) { $0 &* 31 &+ UInt($1) } % 120)
    body.append(
      "<g class=\"frame\" data-bytes=\"\(node.bytes)\" data-self-bytes=\"\(node.selfBytes)\">"
        + "<title>\(Self.escape(node.name)): \(node.bytes) bytes</title>"
        + "<rect x=\(Self.quoted(x)) y=\(Self.quoted(y)) width=\(Self.quoted(width)) "
        + "height=\"\(Int(Self.rowHeight - 1))\" fill=\"rgb(230,\(90 + Int(tint)),40)\"/>"
        + "<text x=\(Self.quoted(x + 3)) y=\(Self.quoted(y + 12))>\(label)</text></g>")
    var childX = x
    for name in node.order {
      let child = node.children[name]!
      draw(child, x: childX, level: level + 1, total: total, height: height, into: &body)
      childX += Self.width * Double(child.bytes) / Double(total)
    }
  }

  static func quoted(_ value: Double) -> String {
    "\"" + String(Double(Int(value * 100)) / 100) + "\""
  }

  static func escape(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(character)
      }
    }
    return out
  }
}
