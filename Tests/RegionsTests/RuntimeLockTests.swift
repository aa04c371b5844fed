import Glibc
import Regions
import RegionsTestSupport
import Testing

/// `swift_once`, the Swift runtime's entry point behind lazy globals: it runs `function` while
/// it holds the once-token's lock, as the runtime holds its metadata locks while it
/// instantiates metadata.
@_silgen_name("swift_once")
func swiftOnce(
  _ predicate: UnsafeMutablePointer<Int>,
  _ function: @convention(c) (UnsafeMutableRawPointer?) -> Void,
  _ context: UnsafeMutableRawPointer?)

/// Frees `block` from inside a runtime call, the way the Swift runtime frees a region block while
/// it holds one of its locks (issue: a Guard region deadlocked XCTest's first test).
func freeInsideTheRuntime(_ block: UnsafeMutableRawPointer?) {
  var predicate = 0
  swiftOnce(&predicate, { opaqueFree($0) }, block)
}

/// The first deallocation through `Stack` happens inside a runtime call: it is deferred (the
/// layer's code never runs there), and the stack sees it before the region closes.
func firstFreeInsideTheRuntime<Stack: Layer>(_ make: () -> Stack) {
  var stack = Stats { make() }
  let deferred = Region._deferredFrees
  Region.enter(&stack) {
    let block = opaqueMalloc(48)
    freeInsideTheRuntime(block)
    keep(opaqueMalloc(16))  // the region's next allocation gives the deferred free to the stack
  }
  precondition(Region._deferredFrees == deferred + 1, "the free was not deferred")
  precondition(stack.deallocations >= 1, "\(Stack.self): the stack never saw the free")
}

@Suite("No layer runs while the Swift runtime holds its locks", .hookMode)
struct RuntimeLockTests {
  @Test func aFreeInsideARuntimeCallIsDeferredForEveryCatalogLayer() async {
    // In a child process, with an alarm: a deadlock ends the child, not the test run.
    await #expect(processExitsWith: .success) {
      alarm(120)
      firstFreeInsideTheRuntime { Chunk(65536) { Mmap() } }
      firstFreeInsideTheRuntime { Batch { Mmap() } }
      firstFreeInsideTheRuntime { Check(onLeak: .report) { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { Bypass { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { Bonwick { Mmap() } }
      firstFreeInsideTheRuntime { Buddy(baseSize: 16, blockExponent: 12) { Mmap() } }
      firstFreeInsideTheRuntime { FreeList { Mmap() } }
      firstFreeInsideTheRuntime { SizeClasses { Mmap() } }
      firstFreeInsideTheRuntime { Locked { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { PerThread { SizeClasses { Mmap() } } }
      firstFreeInsideTheRuntime { Align(64) { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { Zero { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { Guard { SizeClasses { Mmap() } } }
      firstFreeInsideTheRuntime { Guard(.pages) { Mmap() } }
      firstFreeInsideTheRuntime { Limit(bytes: 1 << 30) { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime {
        Fallback {
          Chunk(65536) { Mmap() }
        } otherwise: {
          Mmap()
        }
      }
      firstFreeInsideTheRuntime {
        BySize(threshold: 4096) {
          Chunk(65536) { Mmap() }
        } above: {
          Mmap()
        }
      }
      firstFreeInsideTheRuntime { Trace(to: "/dev/null") { Chunk(65536) { Mmap() } } }
      firstFreeInsideTheRuntime { Chunk(65536) { GroundPages() } }
    }
  }
}
