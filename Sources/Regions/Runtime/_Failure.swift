import RegionMacrosSupport

/// The messages the runtime stops with. Each marks the thread as inside the hook first, so
/// that building the message allocates from the ground, never from a region.
enum _Failure {
  /// The stack returned nil and the region stops on exhaustion.
  @inline(never)
  static func stop(_ core: _Core, byteCount: Int, alignment: Int) -> Never {
    _ = regions_hook_enter()
    let report = core.paths._withUnsafeGuaranteedRef { $0.layer.report(core.pointee.stack) }
    let blockAlignment = Swift.max(_BlockHeader.size, alignment)
    let stackBytes = _BlockHeader.stackByteCount(byteCount: byteCount, offset: blockAlignment)
    fatalError(
      """
      Regions: the region's stack \(core.pointee.stackName) could not allocate \(byteCount) bytes \
      (alignment \(alignment); the stack was asked for \(stackBytes) bytes aligned to \
      \(blockAlignment), with the runtime's \(blockAlignment)-byte block header). Its layers report:
      \(report)
      To fall back to the next region out instead, enter it with `onExhaustion: .useOuterRegion`.
      """)
  }

  @inline(never)
  static func badPointer(
    _ pointer: UnsafeMutableRawPointer, span: _SpanPointer, what: StaticString, freed: Bool
  ) -> Never {
    _ = regions_hook_enter()
    let owner = span.pointee.core.pointee.stackName
    let state = span.pointee.core.pointee.isOpen ? "" : " (closed)"
    if freed {
      fatalError(
        "Regions: \(what)(\(pointer)): double free of a block of the region \(owner)\(state)")
    }
    fatalError(
      "Regions: \(what)(\(pointer)): not the start of a live block, though it lies in pages of the region \(owner)\(state)"
    )
  }

  /// A pointer in the reservation that no span holds: pages given back already.
  @inline(never)
  static func notInARegion(_ pointer: UnsafeMutableRawPointer, what: StaticString) -> Never {
    _ = regions_hook_enter()
    fatalError(
      "Regions: \(what)(\(pointer)): not a live block: it lies in region memory that has been given back (a double free, or a pointer used after its region released it)"
    )
  }

  @inline(never)
  static func foreignBlock(_ core: _Core, _ base: UnsafeMutableRawPointer) -> Never {
    _ = regions_hook_enter()
    fatalError(
      "Regions: the stack \(core.pointee.stackName) returned \(base), which is not in pages it took while serving this region. In hook mode a region's stack must take its memory from a page source (Mmap, GroundPages, OuterRegionPages); ProcessAllocator() and other sources serve explicit mode only."
    )
  }
}
