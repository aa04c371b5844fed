#if canImport(Glibc)
  import Glibc
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

/// The process's own malloc family (the hook's, in a test binary that links Regions), called
/// through pointers: the optimizer knows calloc and friends, and may drop a call whose result
/// it can predict.
public enum Opaque {
  static func function<F>(_ name: String, as type: F.Type) -> F {
    unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!, to: type)
  }
  public static let calloc = function(
    "calloc", as: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?).self)
  public static let realloc = function(
    "realloc", as: (@convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer?).self
  )
  public static let reallocarray = function(
    "reallocarray",
    as: (@convention(c) (UnsafeMutableRawPointer?, Int, Int) -> UnsafeMutableRawPointer?).self)
  public static let memalign = function(
    "memalign", as: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?).self)
  public static let alignedAlloc = function(
    "aligned_alloc", as: (@convention(c) (Int, Int) -> UnsafeMutableRawPointer?).self)
  public static let posixMemalign = function(
    "posix_memalign",
    as: (@convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int, Int) -> Int32).self)
  public static let valloc = function(
    "valloc", as: (@convention(c) (Int) -> UnsafeMutableRawPointer?).self)
  public static let pvalloc = function(
    "pvalloc", as: (@convention(c) (Int) -> UnsafeMutableRawPointer?).self)
  public static let usableSize = function(
    "malloc_usable_size", as: (@convention(c) (UnsafeMutableRawPointer?) -> Int).self)
}
