import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

/// One allocation site as a profile shows it: its frames (the program's, innermost first) and
/// DHAT's figures.
struct _ProfileSite {
  var frames: [_Frame]
  var totalBytes = 0
  var totalBlocks = 0
  var totalLifetime: UInt64 = 0
  var maxBytes = 0
  var maxBlocks = 0
  var peakBytes = 0
  var peakBlocks = 0
  var endBytes = 0
  var endBlocks = 0
}

/// Writes a `Profile`'s sites as a DHAT file (the format of valgrind's `dh_main.c`, which its
/// viewer `dh_view.html` reads) and as a flame graph (`_FlameGraph`). For reports: allocates.
@usableFromInline
struct _ProfileWriter {
  let sites: [_ProfileSite]
  let endTime: UInt64
  let peakTime: UInt64
  let path: String

  @usableFromInline
  init(sites recorded: _AllocationSites, path: String, frames: Int) {
    self.path = path
    let now = recorded.start == 0 ? 0 : regions_monotonic_nanoseconds() &- recorded.start
    endTime = now
    var pending = recorded
    if pending._peakPending { pending._copyLiveToPeak() }
    peakTime = recorded.peakTime
    let raw = pending.sites()
    let liveLifetimes = recorded.liveLifetime(now: now)
    let symbols = _Symbols.frames(for: Set(raw.flatMap(\.frames)))
    // Sites whose frames read the same once the allocation machinery is dropped are one site.
    var merged: [[_Frame]: _ProfileSite] = [:]
    var order: [[_Frame]] = []
    for (number, site) in zip(1..., raw) {
      let key = _Symbols.programFrames(site.frames, symbols, limit: frames)
      if merged[key] == nil {
        merged[key] = _ProfileSite(frames: key)
        order.append(key)
      }
      merged[key]!.totalBytes += site.totalBytes
      merged[key]!.totalBlocks += site.totalBlocks
      merged[key]!.totalLifetime += site.totalLifetime + (liveLifetimes[number] ?? 0)
      merged[key]!.maxBytes += site.maxBytes
      merged[key]!.maxBlocks += site.maxBlocks
      merged[key]!.peakBytes += site.peakBytes
      merged[key]!.peakBlocks += site.peakBlocks
      merged[key]!.endBytes += site.liveBytes
      merged[key]!.endBlocks += site.liveBlocks
    }
    sites = order.map { merged[$0]! }
  }

  @usableFromInline
  func write() {
    _writeFile(path, dhat(), writer: "Profile")
    _writeFile(
      Self.flameGraphPath(for: path), _FlameGraph(sites: sites).svg(), writer: "Profile")
  }

  /// `heap.json` → `heap.svg`; a path without an extension gets `.svg` added.
  static func flameGraphPath(for path: String) -> String {
    let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return path + ".svg" }
    return String(path.dropLast(name.distance(from: dot, to: name.endIndex))) + ".svg"
  }

  /// The DHAT file: `dhatFileVersion` 2, heap mode, block lifetimes, no access counts; time in
  /// nanoseconds.
  func dhat() -> String {
    var frameTable = ["[root]"]
    var frameNumbers: [String: Int] = [:]
    var points: [String] = []
    for site in sites {
      let numbers = site.frames.map { frame -> Int in
        let text = frame.dhatText
        if let number = frameNumbers[text] { return number }
        frameTable.append(text)
        frameNumbers[text] = frameTable.count - 1
        return frameTable.count - 1
      }
      points.append(
        "{\"tb\":\(site.totalBytes),\"tbk\":\(site.totalBlocks),\"tl\":\(site.totalLifetime)"
          + ",\"mb\":\(site.maxBytes),\"mbk\":\(site.maxBlocks)"
          + ",\"gb\":\(site.peakBytes),\"gbk\":\(site.peakBlocks)"
          + ",\"eb\":\(site.endBytes),\"ebk\":\(site.endBlocks)"
          + ",\"fs\":[\(numbers.map(String.init).joined(separator: ","))]}")
    }
    let command = CommandLine.arguments.joined(separator: " ")
    return """
      {"dhatFileVersion":2
      ,"mode":"heap","verb":"Allocated"
      ,"bklt":true,"bkacc":false
      ,"tu":"ns","Mtu":"ms"
      ,"tuth":10000
      ,"cmd":\(_jsonString(command))
      ,"pid":\(getpid())
      ,"te":\(Swift.max(endTime, 1))
      ,"tg":\(peakTime)
      ,"pps":
      [\(points.joined(separator: "\n,"))
      ]
      ,"ftbl":
      [\(frameTable.map(_jsonString).joined(separator: "\n,"))
      ]
      }

      """
  }

}
