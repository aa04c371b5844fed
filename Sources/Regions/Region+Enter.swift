extension Region {
  /// Runs `body` with `stack` serving every heap allocation; the stack is consumed.
  ///
  /// When `body` returns (or throws) the region closes: the stack is reset at once, and
  /// memory that still holds a live block (an object returned from the scope) stays mapped
  /// until that block is freed.
  ///
  /// - Complexity: entering and leaving cost two small allocations and a task-local binding;
  ///   each allocation inside costs the stack's allocate plus a task-local lookup and a lock.
  @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: consuming Stack, onExhaustion: ExhaustionPolicy = .stop,
    _ body: () throws -> Result
  ) rethrows -> Result {
    var stack = stack
    return try enter(&stack, onExhaustion: onExhaustion, body)
  }

  /// Runs `body` with `stack` serving every heap allocation. Afterwards `stack` holds the
  /// final state of its layers (Stats' counts, Check's verdict) and has been reset, ready to
  /// be entered again.
  @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: inout Stack, onExhaustion: ExhaustionPolicy = .stop,
    _ body: () throws -> Result
  ) rethrows -> Result {
    let region = open(&stack, onExhaustion)
    defer { withUnsafeMutablePointer(to: &stack) { $0.initialize(to: close(region)) } }
    return try $_current.withValue(region, operation: body)
  }

  /// Runs the asynchronous `body` with `stack` serving every heap allocation of this task
  /// and of its child tasks; the stack is consumed.
  @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: consuming Stack, onExhaustion: ExhaustionPolicy = .stop,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Result
  ) async rethrows -> Result {
    var stack = stack
    return try await enter(&stack, onExhaustion: onExhaustion, isolation: isolation, body)
  }

  /// Runs the asynchronous `body` with `stack` serving every heap allocation of this task
  /// and of its child tasks. Afterwards `stack` holds its final state and has been reset.
  @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: inout Stack, onExhaustion: ExhaustionPolicy = .stop,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Result
  ) async rethrows -> Result {
    let region = open(&stack, onExhaustion)
    defer { withUnsafeMutablePointer(to: &stack) { $0.initialize(to: close(region)) } }
    return try await $_current.withValue(region, operation: body, isolation: isolation)
  }

  /// Runs `body` with its allocations going to the next region out (or the ground): for
  /// results that must outlive the current region. Nested escapes walk further out.
  @discardableResult
  public static func escape<Result>(_ body: () throws -> Result) rethrows -> Result {
    try $_current.withValue(outward(), operation: body)
  }

  /// Runs the asynchronous `body` with its allocations going to the next region out.
  @discardableResult
  public static func escape<Result>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
  ) async rethrows -> Result {
    try await $_current.withValue(outward(), operation: body, isolation: isolation)
  }

  /// The innermost open region of the current task, if any.
  public static var current: Region? {
    innermostOpen(_current).map(Region.init(node:))
  }

  static func innermostOpen(_ start: _RegionNode?) -> _RegionNode? {
    var node = start
    while let candidate = node, !candidate.core.pointee.isOpen { node = candidate.parent }
    return node
  }

  static func outward() -> _RegionNode? {
    innermostOpen(_current)?.parent
  }

  static func open<Stack: Layer>(_ stack: inout Stack, _ exhaustion: ExhaustionPolicy) -> _StackRegion<Stack> {
    _Hook.start()
    let parent = _current
    // Move the caller's stack into the region; the variable gets the final state back.
    let moved = withUnsafeMutablePointer(to: &stack) { $0.move() }
    let region = _StackRegion(stack: moved, parent: parent, exhaustion: exhaustion)
    return region
  }

  static func close<Stack: Layer>(_ region: _StackRegion<Stack>) -> Stack {
    region.close()
    return region.takeStack()
  }
}
