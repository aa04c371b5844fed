/// A stack's operations, specialized for its concrete type: the one place type erasure
/// happens. Built in `Region.enter` (inlinable, so the client's module specializes it), each
/// closure calls the stack's fully inlined path; the runtime calls them through the closure,
/// with no witness-table dispatch below.
@usableFromInline
struct _StackOperations {
  @usableFromInline let allocate: (UnsafeMutableRawPointer, Int, Int) -> UnsafeMutableRawPointer?
  @usableFromInline let deallocate:
    (UnsafeMutableRawPointer, UnsafeMutableRawPointer, Int, Int) -> Void
  @usableFromInline let reset: (UnsafeMutableRawPointer) -> Void
  @usableFromInline let report: (UnsafeMutableRawPointer) -> String
  @usableFromInline let isThreadSafe: Bool
  @usableFromInline let stackType: ObjectIdentifier

  @inlinable
  init<Stack: Layer>(_ type: Stack.Type) {
    allocate = { stack, byteCount, alignment in
      stack.assumingMemoryBound(to: Stack.self).pointee.allocate(
        byteCount: byteCount, alignment: alignment)
    }
    deallocate = { stack, block, byteCount, alignment in
      stack.assumingMemoryBound(to: Stack.self).pointee.deallocate(
        block, byteCount: byteCount, alignment: alignment)
    }
    reset = { stack in stack.assumingMemoryBound(to: Stack.self).pointee.reset() }
    report = { stack in stack.assumingMemoryBound(to: Stack.self).pointee.report }
    isThreadSafe = Stack.isThreadSafe
    stackType = ObjectIdentifier(Stack.self)
  }
}
