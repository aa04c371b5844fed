import Foundation

/// A DHAT file a `Profile` wrote, parsed.
public struct DHATFile {
  public let json: [String: Any]
  /// The program points (`pps`).
  public var points: [[String: Any]] { json["pps"] as? [[String: Any]] ?? [] }
  /// The frame table (`ftbl`).
  public var frameTable: [String] { json["ftbl"] as? [String] ?? [] }

  public init(path: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
  }

  /// The first program point whose frames mention `function`.
  public func point(naming function: String) -> [String: Any]? {
    points.first { point in
      (point["fs"] as? [Int] ?? []).contains { frameTable[$0].contains(function) }
    }
  }
}
