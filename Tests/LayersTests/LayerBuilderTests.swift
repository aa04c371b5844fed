import Foundation
import Layers
import Testing

@Suite("LayerBuilder: the declared stack is its own static type")
struct LayerBuilderTests {
  @Test func cardStackHasTheNestedGenericType() {
    let stack: Stats<Chunk<Batch<Check<Mmap>>>> = Stats {
      Chunk(4096) { Batch { Check { Mmap() } } }
    }
    #expect(type(of: stack) == Stats<Chunk<Batch<Check<Mmap>>>>.self)
    #expect(stack.parent.chunkSize == 4096)
  }

  @Test(.enabled(if: Compiler.swiftc != nil, "swiftc is not on PATH"))
  func twoLayersInOneBlockDoNotCompile() throws {
    let compiler = try #require(Compiler.find())
    let diagnostics = try compiler.typecheck(
      """
      import Layers
      let stack = Stats { Mmap(); ProcessAllocator() }
      """)
    #expect(diagnostics.status != 0)
    #expect(
      diagnostics.output.contains(
        "error: 'buildBlock' is unavailable: a layer has exactly one parent: put one layer in this block and nest the others inside it"
      ), "\(diagnostics.output)")
  }

  @Test(.enabled(if: Compiler.swiftc != nil, "swiftc is not on PATH"))
  func anEmptyBlockDoesNotCompile() throws {
    let compiler = try #require(Compiler.find())
    let diagnostics = try compiler.typecheck(
      """
      import Layers
      let stack = Stats { }
      """)
    #expect(diagnostics.status != 0)
    #expect(
      diagnostics.output.contains(
        "is unavailable: a layer needs a parent: put exactly one layer in this block"),
      "\(diagnostics.output)")
  }

  /// The control: the same setup accepts a well-formed stack, so the failures above come
  /// from the builder and not from the setup.
  @Test(.enabled(if: Compiler.swiftc != nil, "swiftc is not on PATH"))
  func oneLayerPerBlockCompiles() throws {
    let compiler = try #require(Compiler.find())
    let diagnostics = try compiler.typecheck(
      """
      import Layers
      let stack: Stats<Chunk<Batch<Check<Mmap>>>> = Stats { Chunk(4096) { Batch { Check { Mmap() } } } }
      """)
    #expect(diagnostics.status == 0, "\(diagnostics.output)")
  }
}

/// Runs `swiftc -typecheck` on a source file against the `Layers` module this test binary
/// was built with. The tests are skipped when no `swiftc` is on PATH; `find()` returns nil
/// (and the tests record an issue) when the built module cannot be found.
struct Compiler {
  var swiftc: String
  var modules: String
  var moduleMap: String

  /// The first `swiftc` on PATH.
  static let swiftc: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
    return path.split(separator: ":").map { "\($0)/swiftc" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }()

  static func find() -> Compiler? {
    // The test binary lives in the build directory, next to `Modules/`.
    guard
      let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    else { return nil }
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    // On Linux the binary is `<build>/RegionsPackageTests.xctest`; step out of bundles.
    while directory.path != "/"
      && !FileManager.default.fileExists(
        atPath: directory.appendingPathComponent("Modules/Layers.swiftmodule").path)
    {
      directory = directory.deletingLastPathComponent()
    }
    let modules = directory.appendingPathComponent("Modules").path
    let moduleMap = directory.appendingPathComponent("RegionMacrosSupport.build/module.modulemap")
      .path
    guard let swiftc, FileManager.default.fileExists(atPath: modules),
      FileManager.default.fileExists(atPath: moduleMap)
    else { return nil }
    return Compiler(swiftc: swiftc, modules: modules, moduleMap: moduleMap)
  }

  func typecheck(_ source: String) throws -> (status: Int32, output: String) {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("layerbuilder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("main.swift")
    try source.write(to: file, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: swiftc)
    process.arguments = [
      "-typecheck", "-I", modules, "-Xcc", "-fmodule-map-file=\(moduleMap)",
      "-module-cache-path", directory.appendingPathComponent("cache").path, file.path,
    ]
    let pipe = Foundation.Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
  }
}
