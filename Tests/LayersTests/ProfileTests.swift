import Foundation
import FoundationXML
import Layers
import RegionsTestSupport
import Testing

/// Allocates `count` blocks of `byteCount` bytes from `stack`: a call site a profile must name.
@inline(never)
func allocateForTheProfile<Stack: Layer>(
  _ stack: inout Stack, count: Int, byteCount: Int
) -> [UnsafeMutableRawPointer] {
  (0..<count).map { _ in stack.allocate(byteCount: byteCount, alignment: 16)! }
}

@Suite("Profile")
struct ProfileTests {
  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory()
      + "regions-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
  }

  @Test func passesTheConformanceChecker() {
    let path = Self.temporaryPath("conformance")
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: String(path.dropLast(5)) + ".svg")
    }
    var layer = Profile(writingTo: path) { Mmap() }
    let outcome = ConformanceChecker.run(&layer, options: .reclaiming(false))
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(layer.parent.mappedBytes == 0)
  }

  /// The DHAT file has every field valgrind's viewer needs, and the site of a known call with
  /// its exact figures: total, maximum live, at the global peak, at the end.
  @Test func writesTheSitesFiguresInDHATsFormat() throws {
    let path = Self.temporaryPath("dhat")
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: String(path.dropLast(5)) + ".svg")
    }
    var stack = Profile(writingTo: path, frames: 4) { Mmap() }
    let blocks = allocateForTheProfile(&stack, count: 10, byteCount: 300)
    for block in blocks.prefix(7) { stack.deallocate(block, byteCount: 300, alignment: 16) }
    #expect(stack.totalBlocks == 10 && stack.totalBytes == 3000 && stack.peakLiveBytes == 3000)
    stack.reset()  // three blocks still live: live at the end
    #expect(stack.profilesWritten == 1 && stack.sites == 0)

    let file = try DHATFile(path: path)
    #expect(file.json["dhatFileVersion"] as? Int == 2)
    for field in ["mode", "verb", "bklt", "bkacc", "tu", "Mtu", "tuth", "cmd", "pid", "te", "tg"] {
      #expect(file.json[field] != nil, "missing \(field)")
    }
    #expect(file.frameTable.first == "[root]")
    let point = try #require(file.point(naming: "allocateForTheProfile"))
    #expect(point["tb"] as? Int == 3000 && point["tbk"] as? Int == 10)
    #expect(point["mb"] as? Int == 3000 && point["mbk"] as? Int == 10)
    #expect(point["gb"] as? Int == 3000 && point["gbk"] as? Int == 10)
    #expect(point["eb"] as? Int == 900 && point["ebk"] as? Int == 3)
    #expect((point["tl"] as? Int ?? 0) > 0)
    #expect((point["fs"] as? [Int])?.count ?? 0 <= 4)
  }

  /// Beside the DHAT file: a flame graph, well-formed XML, one frame with bytes of its own per
  /// site, every frame as wide as its bytes.
  @Test func writesAFlameGraphBesideIt() throws {
    let path = Self.temporaryPath("flame")
    let svgPath = String(path.dropLast(5)) + ".svg"
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: svgPath)
    }
    var stack = Profile(writingTo: path) { Mmap() }
    let small = allocateForTheProfile(&stack, count: 4, byteCount: 100)
    let large = Self.allocateLarge(&stack)
    for block in small { stack.deallocate(block, byteCount: 100, alignment: 16) }
    stack.deallocate(large, byteCount: 10_000, alignment: 16)
    stack.reset()

    let data = try Data(contentsOf: URL(fileURLWithPath: svgPath))
    let frames = SVGFrames()
    let parser = XMLParser(data: data)
    parser.delegate = frames
    #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
    let sites = try DHATFile(path: path).points.count
    #expect(sites == 2)
    #expect(frames.frames.filter { $0.selfBytes > 0 }.count == sites)
    let total = try #require(frames.frames.first { $0.bytes == 10_400 })
    for frame in frames.frames {
      #expect(abs(frame.width / total.width - Double(frame.bytes) / 10_400) < 0.001)
    }
  }

  @inline(never)
  static func allocateLarge<Stack: Layer>(_ stack: inout Stack) -> UnsafeMutableRawPointer {
    stack.allocate(byteCount: 10_000, alignment: 16)!
  }
}

/// The frames of a flame graph: each `g.frame` with its bytes and its rectangle's width.
final class SVGFrames: NSObject, XMLParserDelegate {
  struct Frame {
    var bytes: Int
    var selfBytes: Int
    var width: Double
  }
  var frames: [Frame] = []
  private var current: Frame?

  func parser(
    _ parser: XMLParser, didStartElement element: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    if element == "g", attributes["class"] == "frame" {
      current = Frame(
        bytes: Int(attributes["data-bytes"] ?? "") ?? -1,
        selfBytes: Int(attributes["data-self-bytes"] ?? "") ?? -1, width: 0)
    }
    if element == "rect", var frame = current {
      frame.width = Double(attributes["width"] ?? "") ?? -1
      frames.append(frame)
      current = nil
    }
  }
}
