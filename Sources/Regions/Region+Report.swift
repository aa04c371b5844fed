import RegionMacrosSupport

extension Region {
  /// The type of the region's layer stack, e.g. `Stats<Chunk<Mmap>>`.
  public var stackType: String { node.stackName }

  /// Whether the region still serves allocations (its scope has not ended).
  public var isOpen: Bool { node.core.withLock { node.core.pointee.isOpen } }

  /// Blocks the region served through the hook that are still live.
  ///
  /// - Complexity: O(the region's spans); for a region over a thread-safe stack (called
  ///   without the region's lock, so no count is kept) O(the region's pages): its spans are
  ///   scanned.
  public var liveBlocks: Int { node.core.withLock { _Spans.countLive(node.core) } }

  /// Spans of this region kept from the OS because a block in them is still live (after its
  /// stack gave them back, typically at the end of the scope).
  public var withheldSpans: Int { node.core.withSpansLock { node.core.pointee.withheldSpans } }

  /// Bytes in those spans.
  public var withheldBytes: Int { node.core.withSpansLock { node.core.pointee.withheldBytes } }

  /// Bytes of those spans still resident: the pages that hold the live blocks.
  public var withheldResidentBytes: Int {
    node.core.withSpansLock { node.core.pointee.withheldResidentBytes }
  }

  /// Spans of this region not yet given back to the OS (or the page cache).
  public var liveSpans: Int { node.core.withSpansLock { node.core.pointee.liveSpans } }

  /// What the region's layers report so far, one line per layer (empty once closed).
  public var report: String {
    node.core.withLock { node.core.pointee.isOpen ? node._stackReport() : "" }
  }

  /// What the region's layers report so far as JSON, one object per layer, outermost first
  /// (see `Layer.reportJSON`; `[]` once closed).
  public var reportJSON: String {
    node.core.withLock {
      node.core.pointee.isOpen ? node.paths.layer.reportJSON(node.stack) : "[]"
    }
  }
}

extension Region {
  /// Whether this build routes the malloc family into regions (false under ASan / TSan,
  /// where only explicit mode works).
  public static var hookIsActive: Bool {
    _Runtime.start()
    return _Runtime.hookIsActive
  }
}

/// `malloc_usable_size` as the program sees it: exact for region blocks.
public func mallocUsableSize(_ pointer: UnsafeMutableRawPointer) -> Int {
  regions_malloc_usable_size(pointer)
}

extension Region {
  /// Gives back to the OS the pages the runtime keeps for reuse after regions close (at
  /// most 64 MiB; see Docs/Design.md).
  public static func releaseCachedPages() {
    _PageCache.releaseAll()
  }
}
