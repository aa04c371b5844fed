import Foundation
import Layers
import RegionsTestSupport
import Testing

/// A third-party layer with nothing but a report line: it gets the default JSON object.
struct ReportingLayer<Parent: Layer>: WrappingLayer {
  var parent: Parent
  init(@LayerBuilder parent: () -> Parent) { self.parent = parent() }
  func appendReport(to lines: inout [String]) {
    lines.append("ReportingLayer: fine")
    parent.appendReport(to: &lines)
  }
}

@Suite("reportJSON")
struct ReportJSONTests {
  static func objects(_ json: String) throws -> [[String: Any]] {
    try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] ?? []
  }

  /// One object per layer, outermost first, each with its name, its report line and numbers.
  @Test func oneObjectPerLayerWithTheLayersNumbers() throws {
    var stack = Stats {
      Check(onLeak: .report) { Limit(bytes: 1 << 20) { Chunk(4096) { Mmap() } } }
    }
    let block = stack.allocate(byteCount: 100, alignment: 16)!
    let objects = try Self.objects(stack.reportJSON)
    #expect(objects.map { $0["layer"] as? String } == ["Stats", "Check", "Limit", "Chunk", "Mmap"])
    #expect(objects[0]["allocations"] as? Int == 1 && objects[0]["liveBytes"] as? Int == 100)
    #expect(objects[1]["liveBlocks"] as? Int == 1)
    #expect(objects[2]["budget"] as? Int == 1 << 20)
    #expect(objects[3]["liveChunks"] as? Int ?? 0 >= 1)  // the block and Check's tables
    #expect(objects[4]["mappings"] as? Int ?? 0 >= 1)
    #expect(objects.allSatisfy { ($0["report"] as? String)?.isEmpty == false })
    stack.deallocate(block, byteCount: 100, alignment: 16)
    stack.reset()
  }

  /// A layer that only reports text gets an object with its name and its line; combining
  /// layers hold their stacks' arrays.
  @Test func thirdPartyAndCombiningLayers() throws {
    let stack = ReportingLayer {
      Fallback {
        Limit(bytes: 10) { Mmap() }
      } otherwise: {
        BySize(threshold: 64) {
          Mmap()
        } above: {
          Mmap()
        }
      }
    }
    let objects = try Self.objects(stack.reportJSON)
    #expect(objects.first?["layer"] as? String == "ReportingLayer")
    #expect(objects.first?["report"] as? String == "ReportingLayer: fine")
    let fallback = try #require(objects.last)
    #expect(fallback["layer"] as? String == "Fallback" && fallback["fallbacks"] as? Int == 0)
    let primary = try #require(fallback["primary"] as? [[String: Any]])
    #expect(primary.map { $0["layer"] as? String } == ["Limit", "Mmap"])
    let otherwise = try #require(fallback["otherwise"] as? [[String: Any]])
    #expect(otherwise.first?["layer"] as? String == "BySize")
    #expect((otherwise.first?["small"] as? [[String: Any]])?.count == 1)
  }

  /// Strings are escaped: quotes, backslashes, newlines, control characters.
  @Test func stringsAreEscaped() throws {
    struct Odd: Layer {
      mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? { nil }
      mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
      }
      mutating func reset() {}
      func appendReport(to lines: inout [String]) { lines.append("a \"quoted\" \\ path\n\u{1}") }
    }
    let objects = try Self.objects(Odd().reportJSON)
    #expect(objects.first?["report"] as? String == "a \"quoted\" \\ path\n\u{1}")
  }
}
