import Glibc
import Layers
import RegionsTestSupport
import Testing

@Suite("Guard")
struct GuardTests {
  static func counts<L: WrappingLayer>(_ stats: Stats<L>) -> ConformanceChecker.Counts {
    .init(
      allocations: stats.allocations, deallocations: stats.deallocations,
      bytesAllocated: stats.bytesAllocated, bytesDeallocated: stats.bytesDeallocated)
  }

  @Test func passesTheConformanceChecker() {
    var options = ConformanceChecker.Options()
    options.resetReclaimsBlocks = false
    options.maxByteCount = 64 << 10  // Guard fills and checks every byte: keep debug runs short
    var stack = Stats { Guard(quarantineBlocks: 64) { Check { ProcessAllocator() } } }
    let outcome = ConformanceChecker.run(&stack, options: options, counters: Self.counts)
    #expect(outcome.violations == [])
    #expect(outcome.counts.allocations > 50_000)
    #expect(stack.parent.parent.liveBlocks == 0)
    #expect(stack.parent.verifiedBlocks == outcome.counts.deallocations)
  }

  @Test func guardPagesPassTheConformanceChecker() {
    var options = ConformanceChecker.Options()
    options.resetReclaimsBlocks = false
    options.maxLiveBlocks = 200
    options.operations = 20_000  // a few system calls per operation; canaries run 200,000
    var stack = Stats { Guard(.pages, quarantineBlocks: 16) { Check { Mmap() } } }
    let outcome = ConformanceChecker.run(&stack, options: options, counters: Self.counts)
    #expect(outcome.violations == [])
    #expect(stack.parent.parent.liveBlocks == 0)
  }

  /// Freed blocks wait in a first-in, first-out quarantine bounded by count and bytes, and
  /// go back to the parent (checked) when they leave it or at reset.
  @Test func quarantineIsBoundedByCountAndBytes() {
    var byCount = Guard(quarantineBlocks: 4) { Stats { ProcessAllocator() } }
    var blocks = (0..<10).map { _ in byCount.allocate(byteCount: 100, alignment: 8)! }
    for block in blocks { byCount.deallocate(block, byteCount: 100, alignment: 8) }
    #expect(byCount.quarantinedBlocks == 4)
    // The parent got the six oldest back, and the ring's storage is still out.
    #expect(byCount.parent.deallocations == 6 && byCount.verifiedBlocks == 6)
    byCount.reset()
    #expect(byCount.quarantinedBlocks == 0 && byCount.verifiedBlocks == 10)
    #expect(byCount.parent.liveBlocks == 0)

    // Each 200-byte block holds 16 + 208 + 16 = 240 bytes: four fit in 1000.
    var byBytes = Guard(quarantineBlocks: 100, quarantineBytes: 1000) {
      Stats { ProcessAllocator() }
    }
    blocks = (0..<10).map { _ in byBytes.allocate(byteCount: 200, alignment: 8)! }
    for block in blocks { byBytes.deallocate(block, byteCount: 200, alignment: 8) }
    #expect(byBytes.quarantinedBlocks == 4 && byBytes.quarantinedBytes == 960)
    byBytes.reset()
    #expect(byBytes.parent.liveBlocks == 0)
  }

  /// A freed block is poisoned; without a quarantine it goes back at once, still checked.
  @Test func freedBlocksArePoisoned() {
    var stack = Guard(quarantineBlocks: 8) { ProcessAllocator() }
    let block = stack.allocate(byteCount: 64, alignment: 16)!
    block.initializeMemory(as: UInt8.self, repeating: 7, count: 64)
    stack.deallocate(block, byteCount: 64, alignment: 16)
    #expect(UnsafeRawBufferPointer(start: block, count: 64).allSatisfy { $0 == 0xDD })
    stack.reset()

    var noQuarantine = Guard(quarantineBlocks: 0) { Stats { ProcessAllocator() } }
    let other = noQuarantine.allocate(byteCount: 10, alignment: 1)!
    noQuarantine.deallocate(other, byteCount: 10, alignment: 1)
    #expect(noQuarantine.parent.liveBlocks == 0 && noQuarantine.verifiedBlocks == 1)
  }

  static func standardError(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  }

  @Test func overflowPastTheEndStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Guard { ProcessAllocator() }
      let block = stack.allocate(byteCount: 100, alignment: 8)!
      block.storeBytes(of: 0x41, toByteOffset: 101, as: UInt8.self)
      stack.deallocate(block, byteCount: 100, alignment: 8)
    }
    let report = Self.standardError(result)
    #expect(report.contains("a buffer overflow past the end of block 0x"))
    #expect(report.contains("(100 bytes, alignment 8): byte at offset 101"))
    #expect(report.contains("is 0x41"))
  }

  @Test func underflowStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Guard { ProcessAllocator() }
      let block = stack.allocate(byteCount: 32, alignment: 16)!
      block.storeBytes(of: 0, toByteOffset: -3, as: UInt8.self)
      stack.deallocate(block, byteCount: 32, alignment: 16)
    }
    let report = Self.standardError(result)
    #expect(report.contains("a buffer underflow before the start of block"))
    #expect(report.contains("byte at offset -3"))
    #expect(report.contains("is 0x0,"))
  }

  @Test func writeAfterFreeIsFoundWhenTheBlockLeavesTheQuarantine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Guard(quarantineBlocks: 1) { ProcessAllocator() }
      let first = stack.allocate(byteCount: 48, alignment: 8)!
      let second = stack.allocate(byteCount: 48, alignment: 8)!
      stack.deallocate(first, byteCount: 48, alignment: 8)
      first.storeBytes(of: 0x2A, toByteOffset: 5, as: UInt8.self)
      stack.deallocate(second, byteCount: 48, alignment: 8)  // pushes `first` out
    }
    let report = Self.standardError(result)
    #expect(report.contains("a write after free to block"))
    #expect(report.contains("(48 bytes, alignment 8), freed earlier: byte at offset 5"))
    #expect(report.contains("is 0x2a, expected 0xdd"))
  }

  @Test func writeAfterFreeIsFoundAtReset() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Guard { ProcessAllocator() }
      let block = stack.allocate(byteCount: 8, alignment: 8)!
      stack.deallocate(block, byteCount: 8, alignment: 8)
      block.storeBytes(of: 0, as: UInt64.self)
      stack.reset()
    }
    let report = Self.standardError(result)
    #expect(report.contains("a write after free to block"))
    #expect(report.contains("byte at offset 0"))
    #expect(report.contains("8 bytes differ"))
  }

  @Test func doubleFreeStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var stack = Guard { ProcessAllocator() }
      let block = stack.allocate(byteCount: 24, alignment: 8)!
      stack.deallocate(block, byteCount: 24, alignment: 8)
      stack.deallocate(block, byteCount: 24, alignment: 8)
    }
    #expect(Self.standardError(result).contains("a double free of block"))
  }

  /// With guard pages, the first byte past the end faults at once, and so does a use after free.
  /// (Under a sanitizer, which catches the fault and exits with its own status, any abnormal
  /// exit counts.)
  @Test func guardPagesFaultAtOnce() async {
    let fault: ExitTest.Condition = _mallocHookIsCompiled ? .signal(SIGSEGV) : .failure
    await #expect(processExitsWith: fault) {
      var stack = Guard(.pages) { Mmap() }
      let block = stack.allocate(byteCount: 100, alignment: 1)!
      block.storeBytes(of: 1, toByteOffset: 100, as: UInt8.self)
    }
    await #expect(processExitsWith: fault) {
      var stack = Guard(.pages) { Mmap() }
      let block = stack.allocate(byteCount: 4096, alignment: 16)!
      stack.deallocate(block, byteCount: 4096, alignment: 16)
      block.storeBytes(of: 1, toByteOffset: 10, as: UInt8.self)
    }
  }
}

@Suite("Guard's pages when the kernel refuses a protection")
struct GuardPagesLimitTests {
  /// Past the kernel's limit on mappings (vm.max_map_count, 65,530 here: about 32,000 guarded
  /// blocks), mprotect fails: the allocation fails, the layer counts it, nothing stops. (Not
  /// under ASan or TSan, which compile the hook out: their runtimes need mappings too, and
  /// stop the process when refused.)
  @Test(.enabled(if: _mallocHookIsCompiled, "ASan's and TSan's runtimes cannot map past the limit"))
  func aRefusedProtectionFailsTheAllocationAndTheFallbackServesTheRest() async {
    await #expect(processExitsWith: .success) {
      var stack = Fallback {
        Guard(.pages, quarantineBlocks: 0) { Mmap() }
      } otherwise: {
        ProcessAllocator()
      }
      var blocks: [UnsafeMutableRawPointer] = []
      blocks.reserveCapacity(200_000)
      while stack.primary.refusedProtections == 0 && blocks.count < 200_000 {
        guard let block = stack.allocate(byteCount: 64, alignment: 16) else { break }
        blocks.append(block)
      }
      precondition(stack.primary.refusedProtections > 0, "the kernel never refused")
      // The fallback serves what Guard cannot, and every block is usable.
      for _ in 0..<1000 {
        let block = stack.allocate(byteCount: 64, alignment: 16)!
        block.storeBytes(of: 7, as: Int.self)
        blocks.append(block)
      }
      precondition(stack.fallbacks >= 1000)
      for block in blocks { stack.deallocate(block, byteCount: 64, alignment: 16) }
      stack.reset()
    }
  }
}
