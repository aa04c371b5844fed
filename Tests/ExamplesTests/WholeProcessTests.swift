import Foundation
import RegionsTestSupport
import Testing

/// Whole-process mode, as a user runs it: programs built without Regions (C, Swift, and
/// Debian's python3, sqlite3, sort and git) run under `libRegionsPreload.so` with
/// `REGIONS_STACK` and `REGIONS_REPORT`, as child processes. Their output must be the same as
/// without the preload, and the report must say what the stack saw.
@Suite("Whole-process mode: any program on a stack", .serialized)
struct WholeProcessTests {
  static let stacks = [
    "Stats { SizeClasses { Mmap() } }",
    "Check(onLeak: .report) { Stats { Chunk(65536) { Mmap() } } }",
    "PerThread(slots: 16) { Stats { SizeClasses { Mmap() } } }",
    "Guard { Stats { Mmap() } }",
    "Limit(bytes: 1 << 30) { Stats { BySize(threshold: 1024) { SizeClasses { Mmap() } } above: { Mmap() } } }",
  ]

  @Test(arguments: WholeProcessTests.stacks)
  func aCProgramRunsTheSameOnEveryStack(_ stack: String) throws {
    let program = try WholeProcess.compileC("clean")
    let plain = try WholeProcess.run([program])
    let report = WholeProcess.scratch("clean-\(abs(stack.hashValue)).json")
    let preloaded = try WholeProcess.run([program], stack: stack, report: report)
    #expect(plain.status == 0 && preloaded.status == 0, "\(preloaded.error)")
    #expect(preloaded.output == plain.output)
    #expect(plain.output.contains("atexit handler freed its block"))
    #expect(plain.output.contains("spawned child ran"))
    if stack.hasPrefix("PerThread") {
      // A Stats per thread's slot: each balanced.
      let json = try String(contentsOfFile: report, encoding: .utf8)
      #expect(json.contains("PerThread(16 slots)"))
      #expect(!json.contains("Stats: 0 allocations"))
      #expect(json.components(separatedBy: " 0 bytes live in 0 blocks").count > 1, "\(json)")
    } else {
      let stats = try WholeProcess.statsObject(report, stack: stack)
      // Everything the program allocated it freed (the atexit handler last).
      #expect((stats["allocations"] ?? 0) > 2000)
      #expect(stats["allocations"] == stats["deallocations"], "\(stats)")
    }
    #expect(!preloaded.error.contains("Check has "), "\(preloaded.error)")
  }

  @Test func aSwiftProgramBuiltWithoutRegionsRunsTheSame() throws {
    let program = try WholeProcess.compileSwift("plain")
    let plain = try WholeProcess.run([program])
    for stack in [WholeProcessTests.stacks[1], WholeProcessTests.stacks[2]] {
      let preloaded = try WholeProcess.run([program], stack: stack, report: "stderr")
      #expect(plain.status == 0 && preloaded.status == 0, "\(preloaded.error)")
      #expect(preloaded.output == plain.output)
      #expect(preloaded.error.contains("Regions: the process region (pid "))
      #expect(preloaded.error.contains("Stats: "))
      // The runtime's and libdispatch's own allocations are not the program's leaks.
      #expect(!preloaded.error.contains("Check has "), "\(preloaded.error)")
    }
  }

  /// A program that links Regions needs no preload, and its own regions nest inside the
  /// process region: binarytree's trees are built in regions of its own, its output is the
  /// same, and the process region serves only what runs outside them. (The package's own
  /// binarytree is built like this test: without the hook under ASan and TSan.)
  @Test(.hookMode) func regionsAProgramEntersNestInsideTheProcessRegion() throws {
    let bundle = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let binarytree = URL(fileURLWithPath: bundle).deletingLastPathComponent()
      .appendingPathComponent("binarytree").path
    let plain = try WholeProcess.run([binarytree, "10"])
    let report = WholeProcess.scratch("binarytree.json")
    let nested = try WholeProcess.run(
      [binarytree, "10"], stack: "Stats { SizeClasses { Mmap() } }", report: report,
      preloading: false)
    #expect(nested.status == 0, "\(nested.error)")
    #expect(nested.output == plain.output)
    #expect(nested.output == ExamplesTests.binarytreeTen)
    let stats = try WholeProcess.statsObject(report, stack: "Stats { SizeClasses { Mmap() } }")
    // The long-lived tree (2047 nodes) is the process region's; the ~130 000 nodes of the
    // short-lived trees are allocated in binarytree's own regions, not there.
    #expect((2047..<5000).contains(stats["allocations"] ?? 0), "\(stats)")
  }

  @Test func aLeakIsReportedAtExitAndACleanRunReportsNone() throws {
    let program = try WholeProcess.compileC("leaky")
    let stack = "Check(onLeak: .report) { Stats { SizeClasses { Mmap() } } }"
    let clean = try WholeProcess.run([program], stack: stack, report: "stderr")
    #expect(clean.status == 0)
    #expect(
      clean.error.contains("Check: 0 live blocks (0 bytes), 0 leaked so far"), "\(clean.error)")
    #expect(!clean.error.contains("Check has "))
    let leaky = try WholeProcess.run([program, "forget"], stack: stack, report: "stderr")
    #expect(leaky.status == 0)
    #expect(leaky.error.contains("Check has 1 live blocks (777 bytes"), "\(leaky.error)")
    #expect(leaky.error.contains("1 leaked so far"))
    // Under Check's default policy a leak stops the program at exit.
    let stopped = try WholeProcess.run([program, "forget"], stack: "Check { Mmap() }")
    #expect(stopped.status != 0)
    #expect(stopped.error.contains("Check has 1 live blocks (777 bytes"))
  }

  @Test func textThatDoesNotParseStopsBeforeMainWithStatus2() throws {
    let program = try WholeProcess.compileC("leaky")
    let run = try WholeProcess.run([program], stack: "Stats { Chunk(size: 4096) { Mmap() } }")
    #expect(run.status == 2)
    #expect(run.output == "", "main must not have run")
    #expect(
      run.error.contains(
        """
        Regions: REGIONS_STACK does not name a stack: the stack does not parse at column 15: Chunk takes no 'size:' here
            Stats { Chunk(size: 4096) { Mmap() } }
                          ^
          expected an unlabeled integer
        """), "\(run.error)")
    let unknown = try WholeProcess.run([program], stack: "Stats { Arena { Mmap() } }")
    #expect(unknown.status == 2)
    #expect(unknown.error.contains("unknown layer 'Arena'"))
    #expect(unknown.error.contains("expected a layer: Align, Batch"))
  }

  @Test(arguments: [
    "Stats { SizeClasses { Mmap() } }", "PerThread { Stats { SizeClasses { Mmap() } } }",
  ])
  func eightThreadsFreeingEachOthersBlocksCountExactly(_ stack: String) throws {
    let program = try WholeProcess.compileC("threads")
    let report = WholeProcess.scratch("threads-\(abs(stack.hashValue)).json")
    let run = try WholeProcess.run([program], stack: stack, report: report)
    #expect(run.status == 0, "\(run.error)")
    #expect(run.output == "allocated 160000 blocks in 8 threads\n")
    let json = try String(contentsOfFile: report, encoding: .utf8)
    if stack.hasPrefix("PerThread") {
      // One Stats per thread's slot: 20000 allocations each, all freed.
      let slots = json.components(separatedBy: "Stats: 20000 allocations, 20000 deallocations")
      #expect(slots.count - 1 == 8, "\(json)")
    } else {
      let stats = try WholeProcess.statsObject(report, stack: stack)
      #expect(stats["allocations"] == 160_000, "\(stats)")
      #expect(stats["deallocations"] == 160_000)
    }
  }

  // MARK: Programs nobody here wrote

  @Test func python3RunsAJSONAndRegexWorkload() throws {
    guard let python = WholeProcess.installed("/usr/bin/python3") else { return }
    let script = """
      import json, re
      records = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7)] * 3} for i in range(20000)]
      text = json.dumps(records)
      back = json.loads(text)
      words = re.findall(r"item(\\d+)", text)
      print(len(text), len(back), sum(int(w) for w in words), len(re.sub(r"t[0-3]", "x", text)))
      """
    try WholeProcess.expectSameOutput([python, "-c", script])
  }

  @Test func sqlite3BuildsAndQueriesATableOf100000Rows() throws {
    guard let sqlite = WholeProcess.installed("/usr/bin/sqlite3") else { return }
    let script = WholeProcess.scratch("table.sql")
    try """
    CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
      INSERT INTO t SELECT x, 'name' || x, x * 0.5 FROM c;
    CREATE INDEX t_name ON t(name);
    SELECT count(*), sum(v), max(name) FROM t WHERE id % 7 = 3;
    SELECT name FROM t ORDER BY v DESC LIMIT 3;
    SELECT substr(name, 1, 5) AS p, count(*) FROM t GROUP BY p ORDER BY p LIMIT 5;
    """.write(toFile: script, atomically: true, encoding: .utf8)
    try WholeProcess.expectSameOutput(["/bin/sh", "-c", "\(sqlite) :memory: < \(script)"])
  }

  @Test func sortSortsAFewMiBOfLines() throws {
    guard let sort = WholeProcess.installed("/usr/bin/sort") else { return }
    let input = WholeProcess.scratch("lines.txt")
    var lines: [String] = []
    var state: UInt64 = 42
    for _ in 0..<150_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      lines.append(String(state >> 20, radix: 36) + " " + String(state % 977))
    }
    try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
    try WholeProcess.expectSameOutput([sort, input])
  }

  @Test func gitWorksOnASmallRepository() throws {
    guard let git = WholeProcess.installed("/usr/bin/git") else { return }
    let repository = WholeProcess.scratch("repository")
    try? FileManager.default.removeItem(atPath: repository)
    try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
    let setup = """
      cd \(repository) && \(git) init -q && for i in 1 2 3 4 5; do
        echo "line $i" >> file.txt; \(git) add file.txt;
        \(git) -c user.email=a@b.c -c user.name=N commit -q -m "commit $i"; done
      """
    #expect(try WholeProcess.run(["/bin/sh", "-c", setup]).status == 0)
    try WholeProcess.expectSameOutput([
      "/bin/sh", "-c",
      "cd \(repository) && \(git) log --format=%s && \(git) diff HEAD~3 --stat && \(git) grep -c line",
    ])
  }
}

/// Building the preload library and the test programs, and running programs under it.
enum WholeProcess {
  /// `libRegionsPreload.so`, built once for this test run (a scratch directory of its own:
  /// the test's own build directory is locked while it runs).
  static let library: String = {
    let scratch = packageRoot.appendingPathComponent(".build/preload").path
    let build = try? WholeProcess.run([
      "/bin/sh", "-c",
      "swift build --package-path '\(packageRoot.path)' --scratch-path '\(scratch)' --product RegionsPreload 2>&1",
    ])
    let path = scratch + "/debug/libRegionsPreload.so"
    if build?.status != 0 { Issue.record("building RegionsPreload failed: \(build?.output ?? "")") }
    return path
  }()

  static let directory: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "regions-whole-process-\(getpid())"
    ).path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  static func scratch(_ name: String) -> String { directory + "/" + name }

  static var sources: URL { packageRoot.appendingPathComponent("Tests/WholeProcessPrograms") }

  static func compileC(_ name: String) throws -> String {
    let output = scratch(name)
    if FileManager.default.fileExists(atPath: output) { return output }
    let compiler =
      FileManager.default.isExecutableFile(atPath: "/usr/bin/cc") ? "/usr/bin/cc" : "clang"
    let source = sources.appendingPathComponent(name + ".c").path
    let build = try run([
      "/bin/sh", "-c", "\(compiler) -O2 -pthread -o '\(output)' '\(source)' -ldl 2>&1",
    ])
    try #require(build.status == 0, "\(build.output)")
    return output
  }

  static func compileSwift(_ name: String) throws -> String {
    let output = scratch(name)
    if FileManager.default.fileExists(atPath: output) { return output }
    let source = sources.appendingPathComponent(name + ".swift").path
    let build = try run(["/bin/sh", "-c", "swiftc -O -o '\(output)' '\(source)' 2>&1"])
    try #require(build.status == 0, "\(build.output)")
    return output
  }

  /// A program of a Debian package, or nil (a failure when REGIONS_REQUIRE_PROGRAMS=1, as
  /// in .ci/run, which installs them).
  static func installed(_ path: String) -> String? {
    if FileManager.default.isExecutableFile(atPath: path) { return path }
    let required = ProcessInfo.processInfo.environment["REGIONS_REQUIRE_PROGRAMS"] == "1"
    #expect(!required, "REGIONS_REQUIRE_PROGRAMS=1 but \(path) is not installed")
    return nil
  }

  /// Runs `arguments` with the C library and under the preload on two stacks; the outputs
  /// must be identical, and each preloaded run writes its report.
  static func expectSameOutput(_ arguments: [String]) throws {
    let plain = try run(arguments)
    #expect(plain.status == 0, "\(plain.error)")
    for stack in [
      "Check(onLeak: .report, siteFrames: 0) { Stats { SizeClasses { Mmap() } } }",
      "PerThread { Stats { SizeClasses { Mmap() } } }",
    ] {
      let report = scratch("report-%p.txt")
      let preloaded = try run(arguments, stack: stack, report: report)
      #expect(preloaded.status == 0, "\(stack): \(preloaded.error)")
      #expect(preloaded.output == plain.output, "\(stack)")
      let reports = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
        $0.hasPrefix("report-")
      }
      #expect(!reports.isEmpty)
      for name in reports {
        let text = try String(contentsOfFile: scratch(name), encoding: .utf8)
        #expect(text.hasPrefix("Regions: the process region (pid "))
        #expect(text.contains("Stats: "))
        try FileManager.default.removeItem(atPath: scratch(name))
      }
    }
  }

  /// The Stats object of a JSON report, as numbers.
  static func statsObject(_ path: String, stack: String) throws -> [String: Int] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(report["stack"] as? String == stack)
    let layers = try #require(report["layers"] as? [[String: Any]])
    let stats = try #require(layers.first { $0["layer"] as? String == "Stats" })
    return stats.compactMapValues { $0 as? Int }
  }

  /// Runs a program (outputs through files: no pipe to fill), with the whole-process
  /// variables set when `stack` is given.
  static func run(
    _ arguments: [String], stack: String? = nil, report: String? = nil, preloading: Bool = true
  ) throws -> (
    status: Int32, output: String, error: String
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    var environment = ProcessInfo.processInfo.environment
    for name in ["LD_PRELOAD", "REGIONS_STACK", "REGIONS_REPORT"] { environment[name] = nil }
    if let stack {
      if preloading { environment["LD_PRELOAD"] = library }
      environment["REGIONS_STACK"] = stack
      environment["REGIONS_REPORT"] = report
    }
    process.environment = environment
    let id = UUID().uuidString
    let outputPath = scratch("out-\(id)")
    let errorPath = scratch("err-\(id)")
    FileManager.default.createFile(atPath: outputPath, contents: nil)
    FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer {
      try? FileManager.default.removeItem(atPath: outputPath)
      try? FileManager.default.removeItem(atPath: errorPath)
    }
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    try process.run()
    process.waitUntilExit()
    return (
      process.terminationStatus, try String(contentsOfFile: outputPath, encoding: .utf8),
      try String(contentsOfFile: errorPath, encoding: .utf8)
    )
  }
}
