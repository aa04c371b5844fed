import Foundation
import Layers
import RegionsTestSupport
import Testing

/// Stacks built from text (`ParsedStack`, `REGIONS_STACK`): every catalog layer can be named
/// and runs the conformance checker, defaults match the initializers', and bad text is
/// refused with the position and what was expected.
@Suite("Stacks parsed from text")
struct ParsedStackTests {
  /// One stack per catalog layer, and the checker's options it needs.
  static let stacks: [(layer: String, text: String, options: ConformanceChecker.Options)] = {
    // Each layer runs the full checker in its own tests; here the erased path is what is new.
    var base = ConformanceChecker.Options()
    base.operations = 50_000
    var checked = base
    checked.resetReclaimsBlocks = false
    var budget = base
    budget.allowsFailure = true
    let directory = FileManager.default.temporaryDirectory.path
    return [
      ("Align", "Align(64) { Mmap() }", base),
      ("Batch", "Batch { Mmap() }", base),
      ("Bonwick", "Bonwick(cachedSlabsPerBucket: 1, bigCacheCapacity: 4) { Mmap() }", base),
      ("Buddy", "Buddy(baseSize: 64, blockExponent: 1 << 4) { Mmap() }", budget),
      ("BySize", "BySize(threshold: 256) { SizeClasses { Mmap() } } above: { Mmap() }", base),
      ("Bypass", "Bypass { Mmap() }", base),
      ("Check", "Check(onLeak: .report, siteFrames: 0) { ProcessAllocator() }", checked),
      ("Chunk", "Chunk(1 << 16) { Mmap() }", base),
      ("Fallback", "Fallback { Limit(bytes: 1 << 20) { Mmap() } } otherwise: { Mmap() }", base),
      ("FreeList", "FreeList(slabSize: 64 * 1024) { Mmap() }", base),
      ("Guard", "Guard(.canaries, quarantineBlocks: 16) { Mmap() }", base),
      ("Limit", "Limit(bytes: 1_000_000) { Mmap() }", budget),
      ("Locked", "Locked { SizeClasses { Mmap() } }", base),
      ("Mmap", "Mmap()", base),
      ("PerThread", "PerThread(slots: 4) { SizeClasses { Mmap() } }", base),
      ("ProcessAllocator", "ProcessAllocator()", base),
      (
        "Profile", "Profile(writingTo: \"\(directory)/parsed-profile.json\", frames: 2) { Mmap() }",
        base
      ),
      ("Sbrk", "Sbrk(minimumGrowth: 1 << 16)", base),
      ("SizeClasses", "SizeClasses(slabSize: 0x10000) { Mmap() }", base),
      ("Stats", "Stats { Mmap() }", base),
      ("Trace", "Trace(to: \"\(directory)/parsed.trace\") { Mmap() }", base),
      ("Zero", "Zero { Mmap() }", base),
    ]
  }()

  /// GroundPages and OuterRegionPages serve spans of a region: parsed here, run in regions.
  static let regionSources = ["GroundPages", "OuterRegionPages"]

  @Test func everyCatalogLayerCanBeNamed() {
    let named = Set(Self.stacks.map(\.layer)).union(Self.regionSources)
    #expect(named == Set(ParsedStack.layerNames))
    for source in Self.regionSources {
      #expect(throws: Never.self) { try ParsedStack(parsing: "\(source)()") }
    }
  }

  @Test(arguments: ParsedStackTests.stacks.map(\.text))
  func parsedStackPassesTheConformanceChecker(_ text: String) throws {
    var stack = try ParsedStack(parsing: text)
    let options = Self.stacks.first { $0.text == text }!.options
    let outcome = ConformanceChecker.run(&stack, options: options)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 10_000)
    #expect(stack.text == text)
  }

  /// The card's stack, parsed: its Stats layer counts exactly what the checker did.
  @Test func parsedStatsCountsExactly() throws {
    var stack = try ParsedStack(parsing: "Stats { Chunk(4096) { Batch { Check { Mmap() } } } }")
    let outcome = ConformanceChecker.run(&stack) { Self.statsCounts($0) }
    #expect(outcome.violations == [])
    #expect(Self.statsCounts(stack) == outcome.counts)
    #expect(
      stack.report.split(separator: "\n").map { $0.prefix { $0.isLetter } } == [
        "Stats", "Chunk", "Batch", "Check", "Mmap",
      ])
  }

  /// A parsed stack reports like the declared one, defaults included.
  @Test func defaultsAreTheInitializers() throws {
    let pairs: [(String, any Layer)] = [
      ("Check { Mmap() }", Check { Mmap() }),
      ("Guard { Mmap() }", Guard { Mmap() }),
      ("SizeClasses { Mmap() }", SizeClasses { Mmap() }),
      ("FreeList { Mmap() }", FreeList { Mmap() }),
      ("Bonwick { Mmap() }", Bonwick { Mmap() }),
      ("PerThread { Mmap() }", PerThread { Mmap() }),
      ("Sbrk()", Sbrk()),
      ("Stats { Chunk(1 << 20) { Mmap() } }", Stats { Chunk(1 << 20) { Mmap() } }),
    ]
    for (text, declared) in pairs {
      let parsed = try ParsedStack(parsing: text)
      #expect(parsed.report == declared.report, "\(text)")
      #expect(parsed.reportJSON == declared.reportJSON, "\(text)")
    }
    #expect(try ParsedStack(parsing: "PerThread { Mmap() }").topIsThreadSafe)
    #expect(try !ParsedStack(parsing: "Stats { Mmap() }").topIsThreadSafe)
  }

  @Test func integersAreWrittenAsInSwift() throws {
    for text in [
      "Limit(bytes: 1_048_576) { Mmap() }", "Limit(bytes: 1 << 20) { Mmap() }",
      "Limit(bytes: 1024 * 1024) { Mmap() }", "Limit(bytes: 0x100000) { Mmap() }",
      "Limit(bytes: (1 << 19) + 512 * 1024) { Mmap() }",
      "Limit(\n  bytes: 1 << 20\n) {\n  Mmap()\n}",
    ] {
      let stack = try ParsedStack(parsing: text)
      #expect(stack.report.contains("1048576"), "\(text): \(stack.report)")
    }
  }

  /// (text, column of the caret, words of the problem, one thing expected there).
  static let errors: [(String, Int, String, String)] = [
    ("", 1, "the text is empty", "Mmap"),
    ("Stats { Chunkk(4096) { Mmap() } }", 9, "unknown layer 'Chunkk'", "Chunk"),
    ("Chunk(size: 4096) { Mmap() }", 7, "Chunk takes no 'size:' here", "an unlabeled integer"),
    ("Limit { Mmap() }", 7, "Limit needs its 'bytes:' argument", "'('"),
    ("Limit() { Mmap() }", 7, "Limit needs its 'bytes:' argument", "'bytes:'"),
    ("Check(siteFrames: 2, onLeak: .report) { Mmap() }", 22, "takes no 'onLeak:' here", "')'"),
    ("Check(onLeak: .leak) { Mmap() }", 15, "'.leak' is not one of the cases", ".report"),
    ("Stats", 6, "Stats needs its parent layer in braces", "'{' and the layer Stats draws from"),
    ("Stats { Mmap() ", 16, "the text ends inside Stats's braces", "'}'"),
    ("Stats { Mmap() Mmap() }", 16, "a block holds one layer", "'}'"),
    ("Mmap", 5, "Mmap is written Mmap(…) or Mmap()", "'('"),
    ("Mmap() { Stats { Mmap() } }", 8, "Mmap is a source layer", "',', '}' or the end"),
    (
      "BySize(threshold: 64) { Mmap() }", 33, "needs a second stack, labeled 'above:'", "'above: {'"
    ),
    ("Chunk(1 << 70) { Mmap() }", 9, "the shift overflows", ""),
    ("Chunk(4096, 2) { Mmap() }", 13, "Chunk takes no unlabeled argument here", "')'"),
    ("Trace(to: \"x) { Mmap() }", 11, "no closing quote", "'\"'"),
    ("Stats { Mmap() } }", 18, "unexpected '}' after the stack", "the end of the text"),
  ]

  @Test(arguments: ParsedStackTests.errors.indices)
  func badTextIsRefusedWithItsPosition(_ index: Int) {
    let (text, column, problem, expected) = Self.errors[index]
    do {
      _ = try ParsedStack(parsing: text)
      Issue.record("\(text) parsed")
    } catch {
      #expect(error.text == text)
      #expect(error.offset + 1 == column, "\(text): \(error)")
      #expect(error.problem.contains(problem), "\(text): \(error)")
      #expect(expected.isEmpty || error.expected.contains { $0.contains(expected) }, "\(error)")
    }
  }

  @Test func theMessageQuotesTheTextAndPointsAtThePosition() {
    #expect(throws: StackSyntaxError.self) {
      try ParsedStack(parsing: "Chunk(size: 4096) { Mmap() }")
    }
    do {
      _ = try ParsedStack(parsing: "Chunk(size: 4096) { Mmap() }")
    } catch {
      #expect(
        error.description == """
          the stack does not parse at column 7: Chunk takes no 'size:' here
              Chunk(size: 4096) { Mmap() }
                    ^
            expected an unlabeled integer
          """)
    }
  }

  static func statsCounts(_ stack: ParsedStack) -> ConformanceChecker.Counts {
    let data = Data(stack.reportJSON.utf8)
    let objects = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] ?? []
    let stats = objects.first ?? [:]
    return ConformanceChecker.Counts(
      allocations: stats["allocations"] as? Int ?? -1,
      deallocations: stats["deallocations"] as? Int ?? -1,
      bytesAllocated: stats["bytesAllocated"] as? Int ?? -1,
      bytesDeallocated: stats["bytesDeallocated"] as? Int ?? -1)
  }
}
