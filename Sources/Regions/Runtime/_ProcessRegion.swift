import Layers
import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The whole-process region: with `REGIONS_STACK` set, the process runs from before `main`
/// until exit inside one region on the stack the text names, for every thread and task that
/// no scope binds (see `_Bindings`); regions the program enters nest inside it. At exit it
/// closes (its stack reset: `Check` reports what is still live, `Profile` writes its file)
/// and, with `REGIONS_REPORT` set, its report is written: `stderr`, or a file (JSON when the
/// name ends in `.json`; `%p` in the name is replaced by the process id).
///
/// A child of `fork` inherits the region closed, as every region (see `_Fork`): it runs on
/// the ground and writes no report; a program it `exec`s starts a region of its own.
enum _ProcessRegion {
  /// The region, open from start-up to exit (never freed).
  nonisolated(unsafe) static var node: _RegionNode? = nil
  nonisolated(unsafe) static var reportPath: String? = nil
  nonisolated(unsafe) static var owner: pid_t = 0

  /// Parses REGIONS_STACK and opens the region (`regions_process_start`, before `main`).
  static func start() {
    guard node == nil, let variable = getenv("REGIONS_STACK") else { return }
    let text = String(cString: variable)
    let stack: ParsedStack
    do {
      stack = try ParsedStack(parsing: text)
    } catch {
      _writeToStandardError("Regions: REGIONS_STACK does not name a stack: \(error)\n")
      exit(2)
    }
    guard Region.hookIsActive else {
      _writeToStandardError(
        "Regions: REGIONS_STACK is ignored: the hook is not active in this process "
          + "(a sanitizer build, or no address range could be reserved)\n")
      return
    }
    let region = stack.topIsThreadSafe ? open(_SharedParsedStack(stack), text) : open(stack, text)
    if let variable = getenv("REGIONS_REPORT") {
      reportPath = String(cString: variable).replacing("%p", with: "\(getpid())")
    }
    owner = getpid()
    node = region
    regions_process_binding_store(UnsafeRawPointer(region.core))
    atexit { _ProcessRegion.finish() }
  }

  /// A region over a copy of `stack` (the region's stack storage is never freed).
  private static func open<Stack: Layer>(_ stack: Stack, _ text: String) -> _RegionNode {
    let storage = _RegionNode._stackStorage(
      byteCount: MemoryLayout<Stack>.size, alignment: MemoryLayout<Stack>.alignment)
    storage.initializeMemory(as: Stack.self, to: stack)
    return _RegionNode(
      stack: storage, paths: _StackPaths(Stack.self), exhaustion: .stop, stackName: text)
  }

  /// At exit (in the process that opened the region): closes it, then writes the report.
  /// What runs after (later exit handlers, the C library's own clean-up) is served by the
  /// ground; frees of the region's blocks are still accepted.
  static func finish() {
    guard let node, getpid() == owner, node.core.pointee.isOpen else { return }
    regions_process_binding_store(nil)
    node.close()
    guard let reportPath else { return }
    if reportPath == "stderr" {
      _writeToStandardError(textReport(node))
    } else if reportPath.hasSuffix(".json") {
      _writeFile(reportPath, jsonReport(node), writer: "REGIONS_REPORT")
    } else {
      _writeFile(reportPath, textReport(node), writer: "REGIONS_REPORT")
    }
  }

  static func textReport(_ node: _RegionNode) -> String {
    "Regions: the process region (pid \(owner)) at exit: \(node.stackName)\n"
      + node._stackReport() + "\n"
  }

  static func jsonReport(_ node: _RegionNode) -> String {
    "{\"pid\": \(owner), \"stack\": \(_jsonString(node.stackName)), \"layers\": "
      + node.paths.layer.reportJSON(node.stack) + "}\n"
  }
}

/// A parsed stack whose top layer is thread-safe (`Locked`, `PerThread`), so that the region
/// calls it without its lock, as it would the declared stack.
struct _SharedParsedStack: Layer {
  var stack: ParsedStack
  init(_ stack: ParsedStack) { self.stack = stack }

  static var isThreadSafe: Bool { true }

  @inline(__always)
  mutating func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    stack.allocate(byteCount: byteCount, alignment: alignment)
  }
  @inline(__always)
  mutating func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
    stack.deallocate(pointer, byteCount: byteCount, alignment: alignment)
  }
  mutating func reset() { stack.reset() }
  func appendReport(to lines: inout [String]) { stack.appendReport(to: &lines) }
  func appendReportObjects(to objects: inout [String]) { stack.appendReportObjects(to: &objects) }
}

@_cdecl("regions_process_start")
func _processStart() {
  _ProcessRegion.start()
}
