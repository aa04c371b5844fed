import Layers
import RegionsTestSupport
import Testing

@Suite("Limit")
struct LimitTests {
  @Test func passesTheConformanceChecker() {
    var options = ConformanceChecker.Options()
    options.allowsFailure = true
    var stack = Stats { Limit(bytes: 4 << 20) { Chunk(65536) { Check { Mmap() } } } }
    let outcome = ConformanceChecker.run(&stack, options: options) {
      .init(
        allocations: $0.allocations, deallocations: $0.deallocations,
        bytesAllocated: $0.bytesAllocated, bytesDeallocated: $0.bytesDeallocated)
    }
    #expect(outcome.violations == [])
    #expect(outcome.failedAllocations > 0)
    #expect(outcome.failedAllocations == stack.parent.refusals)
    #expect(stack.parent.peakLiveBytes <= 4 << 20)
    #expect(stack.failedAllocations == outcome.failedAllocations)
  }

  /// Requests beyond the budget never reach the parent; freeing makes room again; the
  /// report tells the budget and what was refused.
  @Test func refusesBeyondTheBudget() {
    var stack = Limit(bytes: 1000) { Stats { ProcessAllocator() } }
    let first = stack.allocate(byteCount: 600, alignment: 8)!
    #expect(stack.allocate(byteCount: 401, alignment: 8) == nil)
    let second = stack.allocate(byteCount: 400, alignment: 8)!
    #expect(stack.remainingBytes == 0)
    #expect(stack.allocate(byteCount: 1, alignment: 1) == nil)
    #expect(stack.refusals == 2 && stack.lastRefusedByteCount == 1)
    #expect(stack.parent.allocations == 2 && stack.parent.failedAllocations == 0)
    #expect(
      stack.report.hasPrefix(
        "Limit(1000 bytes): 1000 bytes live, peak 1000, 2 requests refused; the last asked for 1 bytes with 1000 live"
      ))
    stack.deallocate(first, byteCount: 600, alignment: 8)
    stack.deallocate(second, byteCount: 400, alignment: 8)
    let whole = stack.allocate(byteCount: 1000, alignment: 8)!
    stack.deallocate(whole, byteCount: 1000, alignment: 8)
    #expect(stack.liveBytes == 0 && stack.peakLiveBytes == 1000 && stack.refusals == 2)
  }

  @Test func resetMakesTheBudgetWholeAgain() {
    var stack = Limit(bytes: 100) { Chunk(4096) { Mmap() } }
    _ = stack.allocate(byteCount: 100, alignment: 8)!
    #expect(stack.allocate(byteCount: 1, alignment: 8) == nil)
    stack.reset()
    #expect(stack.remainingBytes == 100)
    #expect(stack.allocate(byteCount: 100, alignment: 8) != nil)
    stack.reset()
  }
}
