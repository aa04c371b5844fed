extension Region {
  /// Runs `body` with `stack` serving every heap allocation; the stack is consumed.
  ///
  /// When `body` returns (or throws) the region closes: the stack is reset at once, and
  /// memory that still holds a live block (an object returned from the scope) stays mapped
  /// until that block is freed. An error thrown out of `body` is rethrown as it is: the error
  /// and what it references survive, and `Check` does not report them as leaks.
  ///
  /// - Complexity: entering and leaving cost a few small ground allocations and a task-local
  ///   binding; each allocation inside costs the stack's allocate plus the runtime's path (the
  ///   thread's binding, the region's biased lock, a 16-byte header; see Docs/Design.md for
  ///   measured figures).
  @inlinable @discardableResult
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
  @inlinable @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: inout Stack, onExhaustion: ExhaustionPolicy = .stop,
    _ body: () throws -> Result
  ) rethrows -> Result {
    let region = _open(&stack, onExhaustion)
    defer { _close(region, into: &stack) }
    return try _bind(region, body)
  }

  /// Runs the asynchronous `body` with `stack` serving every heap allocation of this task
  /// and of its child tasks; the stack is consumed.
  @inlinable @discardableResult
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
  @inlinable @discardableResult
  public static func enter<Stack: Layer, Result>(
    _ stack: inout Stack, onExhaustion: ExhaustionPolicy = .stop,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> Result
  ) async rethrows -> Result {
    let region = _open(&stack, onExhaustion)
    defer { _close(region, into: &stack) }
    return try await _bind(region, isolation: isolation, body)
  }

  /// Runs `body` with its allocations going to the next region out (or the ground): for
  /// results that must outlive the current region. Nested escapes walk further out.
  @discardableResult
  public static func escape<Result>(_ body: () throws -> Result) rethrows -> Result {
    try _Bindings.withSyncBinding(outward(), body)
  }

  /// Runs the asynchronous `body` with its allocations going to the next region out.
  @discardableResult
  public static func escape<Result>(
    isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result
  ) async rethrows -> Result {
    try await _Bindings.withAsyncBinding(outward(), isolation: isolation, body)
  }

  /// The innermost open region of the current task, if any.
  public static var current: Region? {
    innermostOpen(_Bindings.currentNode).map(Region.init(node:))
  }

  static func innermostOpen(_ start: _RegionNode?) -> _RegionNode? {
    var node = start
    while let candidate = node, !candidate.core.pointee.isOpen { node = candidate.parent }
    return node
  }

  static func outward() -> _RegionNode? {
    innermostOpen(_Bindings.currentNode)?.parent
  }

  /// Moves `stack` into ground storage and opens a region over it.
  @inlinable
  static func _open<Stack: Layer>(_ stack: inout Stack, _ exhaustion: ExhaustionPolicy)
    -> _RegionNode
  {
    let storage = _RegionNode._stackStorage(
      byteCount: MemoryLayout<Stack>.size, alignment: MemoryLayout<Stack>.alignment)
    let typed = storage.bindMemory(to: Stack.self, capacity: 1)
    withUnsafeMutablePointer(to: &stack) { typed.moveInitialize(from: $0, count: 1) }
    return _RegionNode(
      stack: storage, paths: _StackPaths(Stack.self), exhaustion: exhaustion,
      stackName: String(describing: Stack.self))
  }

  /// Closes the region (its stack reset) and moves the stack's final state back.
  @inlinable
  static func _close<Stack: Layer>(_ region: _RegionNode, into stack: inout Stack) {
    region.close()
    let typed = region.stack.assumingMemoryBound(to: Stack.self)
    withUnsafeMutablePointer(to: &stack) { $0.moveInitialize(from: typed, count: 1) }
    _RegionNode._freeStackStorage(region.stack)
  }

  /// Runs the body in the region; an error it throws is noted as leaving the region (see
  /// `_Escapes`), then rethrown.
  @usableFromInline
  static func _bind<Result>(_ region: _RegionNode, _ body: () throws -> Result) rethrows -> Result {
    do {
      return try _Bindings.withSyncBinding(region, body)
    } catch {
      _Escapes.note(error, leaving: region)
      throw error
    }
  }

  @usableFromInline
  static func _bind<Result>(
    _ region: _RegionNode, isolation: isolated (any Actor)?, _ body: () async throws -> Result
  ) async rethrows -> Result {
    do {
      return try await _Bindings.withAsyncBinding(region, isolation: isolation, body)
    } catch {
      _Escapes.note(error, leaving: region)
      throw error
    }
  }
}
