import RegionMacrosSupport

/// Reads a task-local's storage without copying (or retaining) the value: the runtime entry
/// behind `TaskLocal.get()`. The key is the `TaskLocal` object's address.
@_silgen_name("swift_task_localValueGet")
func _swiftTaskLocalValueGet(_ key: UnsafeRawPointer) -> UnsafeMutableRawPointer?

/// Which region a thread's allocations go to: the binding of the code running on it.
///
/// The binding is the task-local `Region._current`; where nothing is bound at all (a thread
/// outside every scope, a task that never entered one), the whole-process region if
/// REGIONS_STACK opened one (`regions_process_binding`), else the ground. The hook finds it in
/// two ways that are equal to it by construction:
/// - a synchronous scope (`enter`, `escape`, `join`) puts its region in the thread's context
///   for the length of its body: the body never suspends, so every allocation the thread
///   makes meanwhile is the body's;
/// - otherwise the hook reads the current task (one load: `regions_current_task`) and keeps
///   the last task-local lookup in the thread's context, valid while the same task runs and
///   the binding epoch has not moved. A task's binding changes only through this module's
///   scopes, which move the epoch; a task that reuses a dead task's address was allocated by
///   the concurrency runtime, which moves it too (see `_Hook.isProgramCaller`).
enum _Bindings {
  nonisolated(unsafe) static var key: UnsafeRawPointer? = nil

  /// Stands for "the ground" in the thread's binding slot (nil there means "ask the task").
  static var ground: UnsafeRawPointer { regions_ground_binding() }

  /// The innermost region bound for the code running on this thread (open or not), or nil
  /// for the ground.
  @inline(__always)
  static func bound(_ thread: UnsafeMutablePointer<regions_thread_t>) -> _Core? {
    var binding = thread.pointee.binding
    if binding == nil { binding = taskBinding(thread) }
    guard let binding, binding != ground else { return nil }
    return UnsafeMutableRawPointer(mutating: binding).assumingMemoryBound(to: _RegionCore.self)
  }

  @inline(__always)
  static func taskBinding(_ thread: UnsafeMutablePointer<regions_thread_t>) -> UnsafeRawPointer? {
    guard let task = regions_current_task() else { return regions_process_binding_load() }
    let epoch = regions_binding_epoch_load()
    if task == thread.pointee.cached_task && epoch == thread.pointee.cached_epoch {
      return thread.pointee.cached_binding
    }
    return lookUp(thread, task: task, epoch: epoch)
  }

  /// The task-local lookup, remembered in the thread's context.
  @inline(never)
  static func lookUp(
    _ thread: UnsafeMutablePointer<regions_thread_t>, task: UnsafeRawPointer, epoch: UInt
  ) -> UnsafeRawPointer? {
    // Bound: the region (nil: the ground); nothing bound: the whole-process region, if any.
    let binding: UnsafeRawPointer
    if let key, let storage = _swiftTaskLocalValueGet(key) {
      binding =
        storage.load(as: UnsafeRawPointer?.self).map { node in
          UnsafeRawPointer(
            Unmanaged<_RegionNode>.fromOpaque(node)._withUnsafeGuaranteedRef { $0.core })
        } ?? ground
    } else {
      binding = regions_process_binding_load() ?? ground
    }
    thread.pointee.cached_task = task
    thread.pointee.cached_binding = binding
    thread.pointee.cached_epoch = epoch
    return binding
  }

  /// The region the code running now is bound to (open or not): its task-local binding, or
  /// the whole-process region where nothing is bound; nil for the ground.
  static var currentNode: _RegionNode? {
    if let process = _ProcessRegion.node, let key, _swiftTaskLocalValueGet(key) == nil {
      return process
    }
    return Region._current
  }

  /// Runs a synchronous body with `region` bound both task-locally (for tasks it creates)
  /// and in the thread's context (for the hook).
  @inline(__always)
  static func withSyncBinding<Result>(
    _ region: _RegionNode?, _ body: () throws -> Result
  ) rethrows -> Result {
    let thread = regions_thread_context()!
    let previous = thread.pointee.binding
    let binding = region.map { UnsafeRawPointer($0.core) } ?? ground
    defer { thread.pointee.binding = previous }
    return try Region.$_current.withValue(region) {
      thread.pointee.binding = binding
      return try body()
    }
  }

  /// Runs an asynchronous body with `region` bound task-locally; the binding epoch moves on
  /// when the binding is made and when it is undone.
  static func withAsyncBinding<Result>(
    _ region: _RegionNode?, isolation: isolated (any Actor)?, _ body: () async throws -> Result
  ) async rethrows -> Result {
    regions_binding_epoch_bump()
    defer { regions_binding_epoch_bump() }
    return try await Region.$_current.withValue(
      region,
      operation: {
        regions_binding_epoch_bump()
        return try await body()
      }, isolation: isolation)
  }
}
