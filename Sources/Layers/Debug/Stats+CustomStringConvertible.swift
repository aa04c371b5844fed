extension Stats: CustomStringConvertible {
  /// The counters as a small table.
  public var description: String {
    let rows: [(String, Int)] = [
      ("allocations", allocations),
      ("deallocations", deallocations),
      ("failed allocations", failedAllocations),
      ("bytes allocated", bytesAllocated),
      ("bytes deallocated", bytesDeallocated),
      ("live blocks", liveBlocks),
      ("live bytes", liveBytes),
      ("peak live bytes", peakLiveBytes),
    ]
    let values = rows.map { String($0.1) }
    let width = values.map(\.count).max() ?? 0
    var text = "\(_layerTypeDescription(Self.self))\n"
    for (row, value) in zip(rows, values) {
      let label = row.0 + String(repeating: " ", count: 20 - row.0.count)
      text += "  \(label)\(String(repeating: " ", count: width - value.count))\(value)\n"
    }
    return text
  }
}
