/// Reads a stack's text, in the DSL's own words, into a tree of catalog layers:
///
/// ```
/// layer     := Name [ '(' [ argument { ',' argument } ] ')' ] [ parents ]
/// parents   := '{' layer '}' { label ':' '{' layer '}' }
/// argument  := [ label ':' ] ( integer | '"' string '"' | '.' case )
/// integer   := sum of products of shifts of literals (`1 << 20`, `64 * 1024`, `1_000_000`,
///              `0x1000`, parentheses, a leading minus)
/// ```
///
/// Every name, label and value is checked against the catalog as it is read, so an error
/// points at the first thing that is wrong and says what would have been accepted there.
struct _StackParser {
  /// A parsed layer: its catalog entry, its arguments and its parents, ready to build.
  struct Syntax {
    let entry: _LayerEntry
    let arguments: _Arguments
    let parents: [Syntax]

    /// Builds the layer, its parents first (each time a builder is called: PerThread builds
    /// its parent once per slot); `built` collects every handle.
    func build(_ built: _BuiltLayers) -> _ErasedLayer {
      let layer = entry.make(arguments, parents.map { parent in { parent.build(built) } })
      built.layers.append(layer)
      return layer
    }
  }

  let text: String
  private let characters: [Character]
  private var at = 0

  init(_ text: String) {
    self.text = text
    self.characters = Array(text)
  }

  /// The whole text as one stack.
  mutating func parseStack() throws(StackSyntaxError) -> Syntax {
    skipSpace()
    if at == characters.count {
      throw failure("the text is empty", ["a layer: " + Self.layerNames])
    }
    let stack = try parseLayer()
    skipSpace()
    if at != characters.count {
      throw failure("unexpected '\(characters[at])' after the stack", ["the end of the text"])
    }
    return stack
  }

  static var layerNames: String {
    _StackCatalog.entries.map(\.name).joined(separator: ", ")
  }

  // MARK: Layers

  private mutating func parseLayer() throws(StackSyntaxError) -> Syntax {
    skipSpace()
    let start = at
    guard let name = identifier() else {
      let problem = at == characters.count ? "the text ends" : "unexpected '\(characters[at])'"
      throw failure(problem + " where a layer should be", ["a layer: " + Self.layerNames])
    }
    guard let entry = _StackCatalog.entry(named: name) else {
      throw failure("unknown layer '\(name)'", ["a layer: " + Self.layerNames], at: start)
    }
    skipSpace()
    var arguments = _Arguments()
    if peek("(") {
      try parseArguments(entry, &arguments)
    } else if entry.parentLabels.isEmpty {
      throw failure("\(name) is written \(name)(…) or \(name)()", ["'('"])
    } else if let required = entry.parameters.first(where: \.isRequired) {
      throw failure("\(name) needs its \(Self.describe(required)) argument", ["'('"])
    }
    var parents: [Syntax] = []
    for label in entry.parentLabels {
      skipSpace()
      if let label {
        let labelStart = at
        guard identifier() == label, skip(":") else {
          throw failure(
            "\(name) needs a second stack, labeled '\(label):'", ["'\(label): {'"], at: labelStart)
        }
        skipSpace()
      }
      guard skip("{") else {
        throw failure(
          "\(name) needs its parent layer in braces", ["'{' and the layer \(name) draws from"])
      }
      parents.append(try parseLayer())
      skipSpace()
      guard skip("}") else {
        let what = at == characters.count ? "the text ends" : "unexpected '\(characters[at])'"
        throw failure(what + " inside \(name)'s braces: a block holds one layer", ["'}'"])
      }
    }
    skipSpace()
    if entry.parentLabels.isEmpty && peek("{") {
      throw failure("\(name) is a source layer: it takes no parent", ["',', '}' or the end"])
    }
    return Syntax(entry: entry, arguments: arguments, parents: parents)
  }

  // MARK: Arguments

  private mutating func parseArguments(
    _ entry: _LayerEntry, _ arguments: inout _Arguments
  ) throws(StackSyntaxError) {
    _ = skip("(")
    var next = 0  // the first parameter not yet given or skipped
    skipSpace()
    if !skip(")") {
      while true {
        skipSpace()
        let argumentStart = at
        let label = argumentLabel()
        guard let index = Self.match(label, in: entry.parameters, from: next) else {
          let given = label.map { "'\($0):'" } ?? "unlabeled argument"
          throw failure(
            "\(entry.name) takes no \(given) here", Self.expected(entry.parameters, from: next),
            at: argumentStart)
        }
        skipSpace()
        arguments.values[label ?? "_"] = try parseValue(entry.parameters[index].kind)
        next = index + 1
        skipSpace()
        if skip(")") { break }
        guard skip(",") else { throw failure("expected ',' or ')'", ["','", "')'"]) }
      }
    }
    if let missing = entry.parameters[next...].first(where: \.isRequired) {
      throw failure(
        "\(entry.name) needs its \(Self.describe(missing)) argument",
        [Self.describe(missing)], at: at - 1)
    }
  }

  /// `label:` if one comes next (consumed), else nil (nothing consumed).
  private mutating func argumentLabel() -> String? {
    let start = at
    if let name = identifier() {
      skipSpace()
      if skip(":") { return name }
    }
    at = start
    return nil
  }

  /// The parameter `label` names, at or after `from`, skipping only parameters with defaults.
  private static func match(
    _ label: String?, in parameters: [_LayerEntry.Parameter], from: Int
  ) -> Int? {
    for index in from..<parameters.count {
      if parameters[index].label == label { return index }
      if parameters[index].isRequired { return nil }
    }
    return nil
  }

  private static func expected(_ parameters: [_LayerEntry.Parameter], from: Int) -> [String] {
    var result: [String] = []
    for parameter in parameters[from...] {
      result.append(describe(parameter))
      if parameter.isRequired { return result }
    }
    return result + ["')'"]
  }

  private static func describe(_ parameter: _LayerEntry.Parameter) -> String {
    if let label = parameter.label { return "'\(label):'" }
    switch parameter.kind {
    case .integer: return "an unlabeled integer"
    case .string: return "an unlabeled string"
    case .member(let cases): return cases.map { "." + $0 }.joined(separator: " or ")
    }
  }

  private mutating func parseValue(_ kind: _LayerEntry.Kind) throws(StackSyntaxError)
    -> _Arguments.Value
  {
    let start = at
    switch kind {
    case .integer:
      return .integer(try parseSum())
    case .string:
      guard skip("\"") else { throw failure("expected a string", ["'\"'"]) }
      var value = ""
      while at < characters.count && characters[at] != "\"" {
        if characters[at] == "\\" && at + 1 < characters.count { at += 1 }
        value.append(characters[at])
        at += 1
      }
      guard skip("\"") else {
        throw failure("the string has no closing quote", ["'\"'"], at: start)
      }
      return .string(value)
    case .member(let cases):
      let expected = cases.map { "." + $0 }
      guard skip("."), let name = identifier() else {
        throw failure("expected a case", expected, at: start)
      }
      guard cases.contains(name) else {
        throw failure("'.\(name)' is not one of the cases", expected, at: start)
      }
      return .member(name)
    }
  }

  // MARK: Integers

  private mutating func parseSum() throws(StackSyntaxError) -> Int {
    var value = try parseProduct()
    while true {
      skipSpace()
      let start = at
      if skip("+") {
        value = try checked(value.addingReportingOverflow(try parseProduct()), start)
      } else if skip("-") {
        value = try checked(value.subtractingReportingOverflow(try parseProduct()), start)
      } else {
        return value
      }
    }
  }

  private mutating func parseProduct() throws(StackSyntaxError) -> Int {
    var value = try parseShift()
    while true {
      skipSpace()
      let start = at
      guard skip("*") else { return value }
      value = try checked(value.multipliedReportingOverflow(by: try parseShift()), start)
    }
  }

  private mutating func parseShift() throws(StackSyntaxError) -> Int {
    var value = try parseAtom()
    while true {
      skipSpace()
      let start = at
      guard skip("<<") else { return value }
      let amount = try parseAtom()
      guard (0..<Int.bitWidth - 1).contains(amount), value.leadingZeroBitCount > amount else {
        throw failure("the shift overflows an Int", [], at: start)
      }
      value <<= amount
    }
  }

  private mutating func parseAtom() throws(StackSyntaxError) -> Int {
    skipSpace()
    let start = at
    if skip("-") { return try checked((0).subtractingReportingOverflow(try parseAtom()), start) }
    if skip("(") {
      let value = try parseSum()
      skipSpace()
      guard skip(")") else { throw failure("expected ')'", ["')'"]) }
      return value
    }
    var radix = 10
    if peek("0x") || peek("0X") {
      radix = 16
      at += 2
    }
    var digits = ""
    while at < characters.count,
      characters[at] == "_" || characters[at].isHexDigit && (radix == 16 || characters[at].isNumber)
    {
      if characters[at] != "_" { digits.append(characters[at]) }
      at += 1
    }
    guard !digits.isEmpty else { throw failure("expected an integer", ["an integer"], at: start) }
    guard let value = Int(digits, radix: radix) else {
      throw failure("the integer does not fit in an Int", [], at: start)
    }
    return value
  }

  private func checked(_ result: (partialValue: Int, overflow: Bool), _ start: Int)
    throws(StackSyntaxError) -> Int
  {
    if result.overflow { throw failure("the value overflows an Int", [], at: start) }
    return result.partialValue
  }

  // MARK: Characters

  private mutating func skipSpace() {
    while at < characters.count && characters[at].isWhitespace { at += 1 }
  }

  private func peek(_ token: String) -> Bool {
    var index = at
    for character in token {
      guard index < characters.count, characters[index] == character else { return false }
      index += 1
    }
    return true
  }

  private mutating func skip(_ token: String) -> Bool {
    guard peek(token) else { return false }
    at += token.count
    return true
  }

  private mutating func identifier() -> String? {
    guard at < characters.count, characters[at].isLetter || characters[at] == "_" else {
      return nil
    }
    let start = at
    while at < characters.count
      && (characters[at].isLetter || characters[at].isNumber || characters[at] == "_")
    {
      at += 1
    }
    return String(characters[start..<at])
  }

  private func failure(_ problem: String, _ expected: [String], at position: Int? = nil)
    -> StackSyntaxError
  {
    StackSyntaxError(
      text: text, offset: Swift.max(0, position ?? at), problem: problem, expected: expected)
  }
}
