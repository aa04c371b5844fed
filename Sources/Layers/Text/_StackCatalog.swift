/// The layers a stack's text can name: each catalog layer with its labeled arguments (in the
/// order its initializer takes them, with the same defaults) and its parents.
struct _LayerEntry: Sendable {
  enum Kind: Sendable {
    case integer
    case string
    /// One of the enum's cases, written `.name`.
    case member([String])
  }

  struct Parameter: Sendable {
    /// nil for the unlabeled first argument (`Chunk(4096)`).
    let label: String?
    let kind: Kind
    let isRequired: Bool
  }

  let name: String
  let parameters: [Parameter]
  /// One entry per parent block: nil for the first trailing closure, then the labels of the
  /// others (`above:`, `otherwise:`). Empty for a source layer.
  let parentLabels: [String?]
  let make: @Sendable (_Arguments, [() -> _ErasedLayer]) -> _ErasedLayer

  init(
    _ name: String, _ parameters: [Parameter] = [], parents parentLabels: [String?] = [nil],
    make: @escaping @Sendable (_Arguments, [() -> _ErasedLayer]) -> _ErasedLayer
  ) {
    self.name = name
    self.parameters = parameters
    self.parentLabels = parentLabels
    self.make = make
  }
}

extension _LayerEntry.Parameter {
  static func integer(_ label: String?, required: Bool = false) -> Self {
    .init(label: label, kind: .integer, isRequired: required)
  }
  static func string(_ label: String?) -> Self {
    .init(label: label, kind: .string, isRequired: true)
  }
  static func member(_ label: String?, _ cases: [String]) -> Self {
    .init(label: label, kind: .member(cases), isRequired: false)
  }
}

/// The arguments a stack's text gave one layer, by label (`_` for the unlabeled one).
struct _Arguments {
  enum Value: Equatable {
    case integer(Int)
    case string(String)
    case member(String)
  }

  var values: [String: Value] = [:]

  func integer(_ label: String, _ otherwise: Int = 0) -> Int {
    if case .integer(let value) = values[label] { return value }
    return otherwise
  }
  func string(_ label: String) -> String {
    if case .string(let value) = values[label] { return value }
    return ""
  }
  func member(_ label: String, _ otherwise: String) -> String {
    if case .member(let value) = values[label] { return value }
    return otherwise
  }
}

enum _StackCatalog {
  /// Every layer, by name (alphabetical).
  static let entries: [_LayerEntry] = [
    _LayerEntry("Align", [.integer(nil, required: true)]) { a, p in
      _ErasedLayer(Align(a.integer("_")) { p[0]() })
    },
    _LayerEntry("Batch") { _, p in _ErasedLayer(Batch { p[0]() }) },
    _LayerEntry("Bonwick", [.integer("cachedSlabsPerBucket"), .integer("bigCacheCapacity")]) {
      a, p in
      _ErasedLayer(
        Bonwick(
          cachedSlabsPerBucket: a.integer("cachedSlabsPerBucket", 2),
          bigCacheCapacity: a.integer("bigCacheCapacity", 8)
        ) { p[0]() })
    },
    _LayerEntry(
      "Buddy", [.integer("baseSize", required: true), .integer("blockExponent", required: true)]
    ) { a, p in
      _ErasedLayer(
        Buddy(baseSize: a.integer("baseSize"), blockExponent: a.integer("blockExponent")) {
          p[0]()
        })
    },
    _LayerEntry("BySize", [.integer("threshold", required: true)], parents: [nil, "above"]) {
      a, p in
      _ErasedLayer(
        BySize(threshold: a.integer("threshold")) {
          p[0]()
        } above: {
          p[1]()
        })
    },
    _LayerEntry("Bypass") { _, p in _ErasedLayer(Bypass { p[0]() }) },
    _LayerEntry("Check", [.member("onLeak", ["stop", "report"]), .integer("siteFrames")]) {
      a, p in
      let policy: Check<_ErasedLayer>.LeakPolicy =
        a.member("onLeak", "stop") == "report" ? .report : .stop
      return _ErasedLayer(Check(onLeak: policy, siteFrames: a.integer("siteFrames", 4)) { p[0]() })
    },
    _LayerEntry("Chunk", [.integer(nil, required: true)]) { a, p in
      _ErasedLayer(Chunk(a.integer("_")) { p[0]() })
    },
    _LayerEntry("Fallback", parents: [nil, "otherwise"]) { _, p in
      _ErasedLayer(
        Fallback {
          p[0]()
        } otherwise: {
          p[1]()
        })
    },
    _LayerEntry("FreeList", [.integer("slabSize")]) { a, p in
      _ErasedLayer(FreeList(slabSize: a.integer("slabSize", 1 << 20)) { p[0]() })
    },
    _LayerEntry("GroundPages", parents: []) { _, _ in _ErasedLayer(GroundPages()) },
    _LayerEntry(
      "Guard",
      [
        .member(nil, ["canaries", "pages"]), .integer("quarantineBlocks"),
        .integer("quarantineBytes"),
      ]
    ) { a, p in
      let protection: Guard<_ErasedLayer>.Protection =
        a.member("_", "canaries") == "pages" ? .pages : .canaries
      return _ErasedLayer(
        Guard(
          protection, quarantineBlocks: a.integer("quarantineBlocks", 1024),
          quarantineBytes: a.integer("quarantineBytes", 16 << 20)
        ) { p[0]() })
    },
    _LayerEntry("Limit", [.integer("bytes", required: true)]) { a, p in
      _ErasedLayer(Limit(bytes: a.integer("bytes")) { p[0]() })
    },
    _LayerEntry("Locked") { _, p in _ErasedLayer(Locked { p[0]() }) },
    _LayerEntry("Mmap", parents: []) { _, _ in _ErasedLayer(Mmap()) },
    _LayerEntry("OuterRegionPages", parents: []) { _, _ in _ErasedLayer(OuterRegionPages()) },
    _LayerEntry("PerThread", [.integer("slots")]) { a, p in
      _ErasedLayer(PerThread(eachSlotOf: a.integer("slots", 64), making: p[0]))
    },
    _LayerEntry("ProcessAllocator", parents: []) { _, _ in _ErasedLayer(ProcessAllocator()) },
    _LayerEntry("Profile", [.string("writingTo"), .integer("frames")]) { a, p in
      _ErasedLayer(
        Profile(writingTo: a.string("writingTo"), frames: a.integer("frames", 8)) { p[0]() })
    },
    _LayerEntry("Sbrk", [.integer("minimumGrowth"), .integer("trimThreshold")], parents: []) {
      a, _ in
      _ErasedLayer(
        Sbrk(
          minimumGrowth: a.integer("minimumGrowth", 64 * 1024),
          trimThreshold: a.integer("trimThreshold", 128 * 1024)))
    },
    _LayerEntry("SizeClasses", [.integer("slabSize")]) { a, p in
      _ErasedLayer(SizeClasses(slabSize: a.integer("slabSize", 1 << 18)) { p[0]() })
    },
    _LayerEntry("Stats") { _, p in _ErasedLayer(Stats { p[0]() }) },
    _LayerEntry("Trace", [.string("to")]) { a, p in
      _ErasedLayer(Trace(to: a.string("to")) { p[0]() })
    },
    _LayerEntry("Zero") { _, p in _ErasedLayer(Zero { p[0]() }) },
  ]

  static func entry(named name: String) -> _LayerEntry? {
    entries.first { $0.name == name }
  }
}
