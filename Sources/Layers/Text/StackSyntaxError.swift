/// Why a stack's text (``ParsedStack/init(parsing:)``, `REGIONS_STACK`) does not describe a
/// stack: where, what went wrong, and what would have been accepted there.
public struct StackSyntaxError: Error, Equatable, CustomStringConvertible, Sendable {
  /// The text as given.
  public let text: String
  /// Where the problem is: a character offset into `text` (its length at the end).
  public let offset: Int
  /// What is wrong, in a few words: `unknown layer 'Chunkk'`.
  public let problem: String
  /// What would have been accepted at `offset`: layer names, argument labels, `'{'`…
  public let expected: [String]

  /// An error at `offset` in `text`.
  public init(text: String, offset: Int, problem: String, expected: [String]) {
    self.text = text
    self.offset = offset
    self.problem = problem
    self.expected = expected
  }

  /// The problem, the text (on one line) with a caret under the position, and what was
  /// expected there:
  ///
  /// ```
  /// the stack does not parse at column 9: unknown layer 'Chunkk'
  ///     Stats { Chunkk(4096) { Mmap() } }
  ///             ^
  ///   expected one of: Align, Batch, BySize, …
  /// ```
  public var description: String {
    let shown = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    var lines = [
      "the stack does not parse at column \(offset + 1): \(problem)",
      "    " + shown,
      "    " + String(repeating: " ", count: offset) + "^",
    ]
    if expected.count == 1 { lines.append("  expected " + expected[0]) }
    if expected.count > 1 { lines.append("  expected one of: " + expected.joined(separator: ", ")) }
    return lines.joined(separator: "\n")
  }
}
