// The stack's state as JSON: `reportJSON`, and the defaults every layer gets.

extension Layer {
  /// The state of every layer in the stack as a JSON array, one object per layer, outermost
  /// first: `[{"layer": "Stats", "report": "Stats: 3 allocations, …", "allocations": 3, …}, …]`.
  /// Combining layers hold their stacks' arrays (`"primary"`, `"otherwise"`…).
  public var reportJSON: String {
    var objects: [String] = []
    appendReportObjects(to: &objects)
    return "[" + objects.joined(separator: ",") + "]"
  }

  /// A source layer's object: its name and its report.
  public func appendReportObjects(to objects: inout [String]) {
    var lines: [String] = []
    appendReport(to: &lines)
    objects.append(_reportObject(Self.self, report: lines.joined(separator: "\n")))
  }

  /// The line this layer's `appendReport(to:)` appends first: its own.
  package var _ownReportLine: String {
    var lines: [String] = []
    appendReport(to: &lines)
    return lines.first ?? _layerName(Self.self)
  }
}

extension WrappingLayer {
  /// The layer's object (its name and its own report line), then its parent's objects.
  public func appendReportObjects(to objects: inout [String]) {
    _appendReportObjects(to: &objects, [:])
  }

  /// The layer's object, with its own report line and `numbers`, then its parent's objects.
  package func _appendReportObjects(
    to objects: inout [String], _ numbers: KeyValuePairs<String, Int>
  ) {
    objects.append(_reportObject(Self.self, report: _ownReportLine, numbers))
    parent.appendReportObjects(to: &objects)
  }
}

/// One layer's JSON object: `"layer"`, `"report"`, then `numbers` and `stacks` (nested arrays
/// of a combining layer) in order.
package func _reportObject(
  _ layer: Any.Type, report: String, _ numbers: KeyValuePairs<String, Int> = [:],
  stacks: KeyValuePairs<String, String> = [:]
) -> String {
  var fields = [
    "\"layer\":" + _jsonString(_layerName(layer)), "\"report\":" + _jsonString(report),
  ]
  for (key, value) in numbers { fields.append(_jsonString(key) + ":" + String(value)) }
  for (key, array) in stacks { fields.append(_jsonString(key) + ":" + array) }
  return "{" + fields.joined(separator: ",") + "}"
}

/// `text` as a JSON string literal.
package func _jsonString(_ text: String) -> String {
  var out = "\""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    default:
      if scalar.value < 0x20 {
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
  }
  return out + "\""
}
