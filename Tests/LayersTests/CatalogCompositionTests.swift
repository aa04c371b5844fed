import Foundation
import Layers
import RegionsTestSupport
import Testing

/// The catalog's layers stacked together (and with the core layers) still pass the checker.
@Suite("Catalog layers compose")
struct CatalogCompositionTests {
  @Test func oneDeepStackOfEveryKind() {
    let path = NSTemporaryDirectory() + "regions-composed-\(getpid()).trace"
    defer { try? FileManager.default.removeItem(atPath: path) }
    var options = ConformanceChecker.Options()
    options.resetReclaimsBlocks = false
    options.maxByteCount = 64 << 10
    var stack = Stats {
      Locked {
        Trace(to: path) {
          Fallback {
            Limit(bytes: 1 << 20) {
              Align(32) {
                Zero { Guard(quarantineBlocks: 16) { Check { Chunk(1 << 20) { Mmap() } } } }
              }
            }
          } otherwise: {
            BySize(threshold: 4096) {
              PerThread(slots: 2) { Check { ProcessAllocator() } }
            } above: {
              Mmap()
            }
          }
        }
      }
    }
    let outcome = ConformanceChecker.run(&stack, options: options) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    let fallback = stack.parent.parent.parent
    #expect(fallback.fallbacks > 0)
    #expect(fallback.primary.refusals == fallback.fallbacks)
    #expect(stack.report.contains("Guard(canaries)"))
  }
}
