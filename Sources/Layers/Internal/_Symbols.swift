import RegionMacrosSupport

#if canImport(Glibc)
  import Glibc
#endif

/// `swift_demangle` from the Swift runtime: the readable name of a mangled symbol, in a buffer
/// it mallocs (nil if the name is not a Swift one).
@_silgen_name("swift_demangle")
private func _swiftDemangle(
  _ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int,
  _ outputBuffer: UnsafeMutablePointer<CChar>?, _ outputBufferSize: UnsafeMutablePointer<Int>?,
  _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

/// A return address as a profile shows it: the function (demangled) and, where the binary has
/// debug information, the file and line.
struct _Frame: Hashable {
  var address: UInt
  var function: String
  var location: String?
  /// The function is the allocation machinery (malloc and friends, the Swift runtime's object
  /// allocation, this package's layers and runtime), not the program's code.
  var isMachinery: Bool

  /// DHAT's frame text: `0x…: function (file:line)`.
  var dhatText: String {
    "0x" + String(address, radix: 16) + ": " + function + (location.map { " (\($0))" } ?? "")
  }
}

/// Turns return addresses into `_Frame`s: dladdr for the symbol, `swift_demangle` for Swift
/// names, `addr2line` (binutils, when installed) for file and line. For reports: allocates.
enum _Symbols {
  /// The frames at each return address, innermost first: one per function inlined there (when
  /// the binary has debug information), else the one dladdr names.
  static func frames(for addresses: Set<UInt>) -> [UInt: [_Frame]] {
    var frames: [UInt: [_Frame]] = [:]
    var byObject: [String: [(address: UInt, offset: UInt)]] = [:]
    for address in addresses {
      var symbol = regions_symbol()
      var frame = _Frame(address: address, function: "???", location: nil, isMachinery: false)
      defer { frames[address] = [frame] }
      // A return address points after the call: look up the call itself.
      guard let lookup = UnsafeRawPointer(bitPattern: address &- 1),
        regions_describe_address(lookup, &symbol) != 0
      else { continue }
      if let name = symbol.name.map({ String(cString: $0) }) { frame = named(frame, name) }
      if let object = symbol.object.map({ String(cString: $0) }), !object.isEmpty,
        let base = symbol.object_base
      {
        let offset = isSharedObject(base) ? address &- 1 &- UInt(bitPattern: base) : address &- 1
        byObject[object, default: []].append((address, offset))
      }
    }
    for (object, entries) in byObject {
      let found = lineInformation(object, entries.map(\.offset))
      for (address, chain) in zip(entries.map(\.address), found) where !chain.isEmpty {
        // dladdr knows exported symbols only (and names the nearest exported one before an
        // address in a local function); addr2line reads the symbol table and the inlining.
        let fallback = frames[address]![0]
        frames[address] = chain.map { function, location in
          var frame = function.map { named(fallback, $0) } ?? fallback
          frame.location = location
          return frame
        }
      }
    }
    return frames
  }

  /// The program's frames of a call stack (`addresses` innermost first, symbolized in
  /// `symbols`): the allocation machinery at the top dropped, at most `limit` kept.
  static func programFrames(_ addresses: [UInt], _ symbols: [UInt: [_Frame]], limit: Int)
    -> [_Frame]
  {
    var frames = addresses.flatMap { symbols[$0] ?? [] }
    while frames.count > 1 && frames[0].isMachinery { frames.removeFirst() }
    return Array(frames.prefix(limit))
  }

  /// `frame` named after the symbol `mangled`.
  private static func named(_ frame: _Frame, _ mangled: String) -> _Frame {
    var named = frame
    named.function = demangle(mangled)
    named.isMachinery = isMachinery(mangled)
    return named
  }

  static func demangle(_ mangled: String) -> String {
    mangled.withCString { name in
      guard let readable = _swiftDemangle(name, strlen(name), nil, nil, 0) else { return mangled }
      defer { free(readable) }
      return String(cString: readable)
    }
  }

  /// Symbols of the allocation machinery, skipped at the top of a call stack: the malloc
  /// family, the Swift runtime's allocation entry points, this package's layers and runtime.
  static func isMachinery(_ mangled: String) -> Bool {
    let names: Set<String> = [
      "malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign", "aligned_alloc",
      "memalign", "valloc", "pvalloc",
    ]
    let prefixes = [
      "swift_slowAlloc", "swift_allocObject", "swift_allocBox", "swift_allocEmptyBox",
      "regions_", "malloc_", "free_", "$s7Regions", "$s6Layers",
    ]
    return names.contains(mangled) || prefixes.contains { mangled.hasPrefix($0) }
  }

  /// Whether the object mapped at `base` is position-independent (ET_DYN: addr2line wants
  /// offsets from its base) rather than a fixed-address executable.
  static func isSharedObject(_ base: UnsafeRawPointer) -> Bool {
    base.load(fromByteOffset: 16, as: UInt16.self) == 3
  }

  /// For each offset in `object`, the functions inlined there, innermost first, each with its
  /// `file:line` (from addr2line; nil where it knows none), ending with the function the code
  /// belongs to. Empty when addr2line is not installed or knows nothing.
  static func lineInformation(_ object: String, _ offsets: [UInt]) -> [[(String?, String?)]] {
    guard access("/usr/bin/addr2line", X_OK) == 0 else { return offsets.map { _ in [] } }
    var found: [[(String?, String?)]] = []
    var start = 0
    while start < offsets.count {
      let batch = offsets[start..<Swift.min(start + 200, offsets.count)]
      // -a: each address first, then (function, file:line) pairs, one per inlined level.
      let arguments =
        ["/usr/bin/addr2line", "-a", "-i", "-f", "-C", "-e", object]
        + batch.map { "0x" + String($0, radix: 16) }
      var cArguments = arguments.map { strdup($0) } + [nil]
      defer { cArguments.forEach { free($0) } }
      var groups: [[String]] = []
      var process: Int32 = 0
      if let pipe = regions_spawn_reading(&cArguments, &process) {
        var buffer = [CChar](repeating: 0, count: 8192)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
          let bytes = buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }
          let line = String(decoding: bytes, as: UTF8.self)
          if line.hasPrefix("0x") && groups.count < batch.count
            && (groups.last?.count ?? 2) % 2 == 0
          {
            groups.append([])
          } else if !groups.isEmpty {
            groups[groups.count - 1].append(line)
          }
        }
        regions_spawn_finish(pipe, process)
      }
      for index in 0..<batch.count {
        let lines = index < groups.count ? groups[index] : []
        var chain: [(String?, String?)] = []
        for pair in stride(from: 0, to: lines.count - 1, by: 2) {
          let function = lines[pair]
          let place = String(lines[pair + 1].split(separator: " ").first ?? "")
          let knownPlace =
            !place.hasPrefix("??") && !place.hasSuffix(":0") && !place.hasSuffix(":?")
          chain.append((function == "??" ? nil : function, knownPlace ? place : nil))
        }
        found.append(chain.allSatisfy { $0.0 == nil && $0.1 == nil } ? [] : chain)
      }
      start += batch.count
    }
    return found
  }
}
