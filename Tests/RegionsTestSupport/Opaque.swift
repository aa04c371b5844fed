#if canImport(Glibc)
  public import Glibc
#endif

// Allocations the optimizer cannot remove. A release build deletes a malloc whose block is
// never used, pairs of malloc and free, and class instances that do not escape (promoted to
// the stack): a hook-mode test that means to allocate must make its allocation observable.

/// malloc and free called through pointers the optimizer cannot see through.
public let opaqueMalloc = unsafeBitCast(
  dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc")!,
  to: (@convention(c) (Int) -> UnsafeMutableRawPointer?).self)
public let opaqueFree = unsafeBitCast(
  dlsym(UnsafeMutableRawPointer(bitPattern: 0), "free")!,
  to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)

/// Makes `value` escape as far as the optimizer can tell (an opaque call in another module,
/// never optimized), so that it is really allocated.
@_optimize(none) @inline(never)
public func keep<Value>(_ value: Value) {}
