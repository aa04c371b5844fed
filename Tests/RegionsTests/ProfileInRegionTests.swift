import Foundation
import Regions
import RegionsTestSupport
import Testing

/// A class the profiled code allocates.
final class ProfiledLeaf {
  var values: [Int]
  init(_ value: Int) { values = Array(repeating: value, count: Int.random(in: 100...100)) }
}

/// The function a profile must name: 1000 leaves, each with an array of 100 integers.
@inline(never)
func buildProfiledLeaves() -> [ProfiledLeaf] {
  (0..<1000).map { ProfiledLeaf($0) }
}

/// The repository's root (Tools/ lives there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().path

@Suite("Profile in a region", .serialized, .hookMode)
struct ProfileInRegionTests {
  static func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "regions-\(name)-\(getpid()).json"
  }

  /// Swift code in a Profile region: the site of the arrays names the function that made them,
  /// with the bytes they hold; serving them never allocated.
  @Test func aProfileRegionNamesTheFunctionThatAllocatedWithItsBytes() throws {
    let path = Self.temporaryPath("profile-region")
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: String(path.dropLast(5)) + ".svg")
    }
    var stack = Profile(writingTo: path, frames: 16) { SizeClasses { Mmap() } }
    Region.enter(&stack) { keep(buildProfiledLeaves()) }  // warm-up: every path once
    var reentries = 0
    Region.enter(&stack) {
      let before = Region._hookReentries
      keep(buildProfiledLeaves())
      reentries = Region._hookReentries - before
    }
    #expect(reentries == 0)
    #expect(stack.profilesWritten == 2)
    let file = try DHATFile(path: path)
    let points = file.points.filter { point in
      (point["fs"] as? [Int] ?? []).contains { file.frameTable[$0].contains("buildProfiledLeaves") }
    }
    let bytes = points.reduce(0) { $0 + ($1["tb"] as? Int ?? 0) }
    let blocks = points.reduce(0) { $0 + ($1["tbk"] as? Int ?? 0) }
    // 1000 arrays of 800 bytes of elements (plus their headers), 1000 objects, the result.
    #expect(bytes >= 1000 * 800 + 1000 * 24 && bytes < 1000 * 900 + 1000 * 48 + 16_384)
    #expect(blocks >= 2000 && blocks <= 2010)
    // In hook mode the sizes are the program's: an array of 100 Ints asks for 32 + 800 bytes.
    #expect(points.contains { ($0["tb"] as? Int) == 1000 * 832 })
  }

  /// valgrind's viewer, dh_view.html, in headless Chromium: it loads the profile and shows the
  /// top site with the function and bytes the file gives it.
  @Test func valgrindsViewerShowsTheTopSite() throws {
    let reader = repositoryRoot + "/Tools/dhview-read"
    let required = ProcessInfo.processInfo.environment["REGIONS_REQUIRE_BROWSER"] == "1"
    let available =
      FileManager.default.fileExists(atPath: "/usr/libexec/valgrind/dh_view.html")
      && FileManager.default.fileExists(atPath: "/usr/bin/chromedriver")
    if !available {
      #expect(!required, "REGIONS_REQUIRE_BROWSER=1 but valgrind or chromium-driver is missing")
      return  // .ci/run installs them (apt-get install valgrind chromium chromium-driver)
    }
    let path = Self.temporaryPath("profile-viewer")
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: String(path.dropLast(5)) + ".svg")
    }
    var stack = Profile(writingTo: path, frames: 12) { SizeClasses { Mmap() } }
    Region.enter(&stack) { keep(buildProfiledLeaves()) }
    let file = try DHATFile(path: path)
    let top = try #require(file.points.max { ($0["tb"] as? Int ?? 0) < ($1["tb"] as? Int ?? 0) })
    let topFrame = file.frameTable[(top["fs"] as? [Int] ?? [0])[0]]

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", reader, path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let shown = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    let function = try #require(shown["top_function"] as? String)
    #expect(!function.isEmpty && topFrame.contains(function))
    #expect(shown["top_bytes"] as? Int == top["tb"] as? Int)
    #expect(shown["top_bytes"] as? Int == 1000 * 832)
    #expect(shown["sites"] as? Int == file.points.count)
  }
}
