/// The messages the runtime stops with. Each runs inside the hook (allocations go to the
/// ground), so building the message is safe.
enum _Failure {
  static func stop(_ region: _RegionNode, byteCount: Int, alignment: Int) -> Never {
    let report = region._stackReport()
    fatalError(
      """
      Regions: the region's stack \(region.stackName) could not allocate \(byteCount) bytes \
      (alignment \(alignment)). Its layers report:
      \(report)
      To fall back to the next region out instead, enter it with `onExhaustion: .useOuterRegion`.
      """)
  }

  static func badPointer(
    _ pointer: UnsafeMutableRawPointer, span: _SpanPointer, what: StaticString, freed: Bool
  ) -> Never {
    let owner =
      span.pointee.core.pointee.node.map {
        Unmanaged<_RegionNode>.fromOpaque($0).takeUnretainedValue().stackName
      } ?? "a closed region"
    if freed {
      fatalError("Regions: \(what)(\(pointer)): double free of a block of \(owner)")
    }
    fatalError(
      "Regions: \(what)(\(pointer)): not the start of a live block, though it lies in pages of \(owner)"
    )
  }
}
