import Regions
import RegionsTestSupport
import Testing

/// The recipes in Docs/Layers.md, run, with what the doc says they show.
@Suite("The recipes in Docs/Layers.md do what they say", .serialized, .hookMode)
struct RecipeTests {
  final class Session { var log: [String] = [] }

  @Test func aLeakCheckedScopeReportsWhatOutlivesIt() throws {
    Session().log.append("warm-up")
    var sessions: [Session] = []
    var checked = Check(onLeak: .report) { Chunk(64 * 1024) { Mmap() } }
    Region.enter(&checked) {
      let session = Session()
      session.log.append("request handled")
    }
    #expect(checked.leakedBlocks == 0)
    Region.enter(&checked) {
      let session = Session()
      session.log.append("request handled")
      Region.escape { sessions.reserveCapacity(1) }
      sessions.append(session)  // outlives the scope: reported
    }
    // The session object and its log's buffer and string.
    #expect(checked.leakedBlocks >= 2)
    #expect(sessions.count == 1)
  }

  @Test func anArenaForARequest() throws {
    var arena = Stats { Chunk(256 * 1024) { Mmap() } }
    let reply = Region.enter(&arena) { () -> String in
      let words = "hello regions, hello arenas".split(separator: " ").map { $0.uppercased() }
      return Region.escape { words.joined(separator: " ") }
    }
    #expect(reply == "HELLO REGIONS, HELLO ARENAS")
    #expect(arena.allocations >= 2)  // the words array and its strings
    #expect(arena.liveBlocks == 0)
  }

  @Test func aSlabForManySmallObjects() throws {
    final class Particle { var x = 0.0, y = 0.0, alive = true }
    func simulate() {
      var particles = (0..<10_000).map { _ in Particle() }
      var random = SystemRandomNumberGenerator()
      for _ in 0..<10 {
        particles.removeAll { _ in Bool.random(using: &random) }
        particles += (0..<5_000).map { _ in Particle() }
      }
    }
    // Once outside: metadata the Swift runtime makes inside libswiftCore's generic code on
    // first use would otherwise land in the region (Docs/Safety.md, "Not guaranteed").
    simulate()
    var outer = Stats { Chunk(1 << 20) { Mmap() } }
    var slab = Stats { Bonwick { OuterRegionPages() } }
    Region.enter(&outer) {
      Region.enter(&slab) { simulate() }
    }
    #expect(slab.allocations > 50_000)
    #expect(slab.liveBlocks == 0)
    // The enclosing region saw a few slabs, not every particle.
    #expect(outer.allocations < slab.allocations / 100)
    #expect(outer.liveBlocks == 0)
  }
}
