import Glibc
import Regions
import RegionsTestSupport
import Testing

// mimalloc-bench's security set against three kinds of region: what each catches, and how.
// Docs/Safety.md's table of misuse is these tests.

/// A stack to misuse a region over.
enum MisusedStack: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
  case plain, check, guarded, guardedPages
  var testDescription: String { rawValue }

  func enter(_ body: () -> Void) {
    switch self {
    case .plain: Region.enter(Chunk(65536) { Mmap() }, body)
    case .check: Region.enter(Check(onLeak: .report) { Chunk(65536) { Mmap() } }, body)
    case .guarded: Region.enter(Guard(quarantineBlocks: 16) { SizeClasses { Mmap() } }, body)
    case .guardedPages: Region.enter(Guard(.pages, quarantineBlocks: 16) { Mmap() }, body)
    }
  }
}

func childOutput(_ result: ExitTest.Result?) -> String {
  String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite("Heap misuse in regions: what each stack catches", .hookMode)
struct MisuseTests {
  @Test(arguments: MisusedStack.allCases)
  func aDoubleFreeStopsWithAMessage(_ stack: MisusedStack) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [stack] in
      stack.enter {
        let block = opaqueMalloc(40)
        opaqueFree(block)
        opaqueFree(block)
      }
    }
    // Guard with pages faults on the second free (its pages are inaccessible); the others stop.
    if stack != .guardedPages { #expect(childOutput(result).contains("double free")) }
  }

  @Test(arguments: MisusedStack.allCases)
  func freeingAnInteriorPointerStops(_ stack: MisusedStack) async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      [stack] in
      stack.enter {
        let block = opaqueMalloc(64)!
        opaqueFree(block + 16)
      }
    }
    if stack != .guardedPages {
      #expect(childOutput(result).contains("not the start of a live block"))
    }
  }

  @Test func freeingAPointerIntoReleasedRegionMemoryStops() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      var kept: UnsafeMutableRawPointer? = nil
      Region.enter(Chunk(65536) { Mmap() }) { kept = opaqueMalloc(100) }  // a leak, unchecked
      _ = kept
      Region.enter(Chunk(65536) { Mmap() }) {
        let block = opaqueMalloc(100)!
        opaqueFree(block)
        // The region's pages go back when it closes; a later free of the block finds them gone.
        kept = block
      }
      Region.releaseCachedPages()
      opaqueFree(kept)
    }
    #expect(childOutput(result).contains("region memory that has been given back"))
  }

  @Test func aForeignPointerIsTheGroundsToJudge() async {
    // A pointer that is no block of anyone's, outside every region's pages: the ground
    // (glibc) stops it.
    await #expect(processExitsWith: .failure) {
      var local = 0
      Region.enter(Chunk(65536) { Mmap() }) {
        withUnsafeMutablePointer(to: &local) { opaqueFree(UnsafeMutableRawPointer($0)) }
      }
    }
  }

  @Test func aWritePastTheEndIsCaughtByGuard() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      MisusedStack.guarded.enter {
        let block = opaqueMalloc(24)!
        block.storeBytes(of: 0xEE, toByteOffset: 24, as: UInt8.self)
        opaqueFree(block)
      }
    }
    #expect(childOutput(result).contains("buffer overflow past the end of block"))
  }

  @Test func aWritePastTheEndFaultsAtOnceUnderGuardPages() async {
    await #expect(processExitsWith: .signal(SIGSEGV)) {
      MisusedStack.guardedPages.enter {
        let block = opaqueMalloc(4096)!
        block.storeBytes(of: 0xEE, toByteOffset: 4096, as: UInt8.self)
        opaqueFree(block)
      }
    }
  }

  @Test(arguments: [MisusedStack.plain, .check])
  func aWritePastTheEndIsNotCaughtWithoutGuard(_ stack: MisusedStack) async {
    await #expect(processExitsWith: .success) { [stack] in
      stack.enter {
        let block = opaqueMalloc(24)!
        let next = opaqueMalloc(24)!
        block.storeBytes(of: 0xEE, toByteOffset: 24, as: UInt8.self)  // lands in slack or a header
        opaqueFree(next)
        opaqueFree(block)
      }
    }
  }

  @Test func aReadAfterFreeFaultsAtOnceUnderGuardPages() async {
    await #expect(processExitsWith: .signal(SIGSEGV)) {
      MisusedStack.guardedPages.enter {
        let block = opaqueMalloc(64)!
        opaqueFree(block)
        keep(block.load(as: UInt8.self))
      }
    }
  }

  @Test func aWriteAfterFreeIsCaughtByGuardWhenTheBlockLeavesTheQuarantine() async {
    let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      MisusedStack.guarded.enter {
        let block = opaqueMalloc(64)!
        opaqueFree(block)
        block.storeBytes(of: 0x11, toByteOffset: 8, as: UInt8.self)
      }
    }
    #expect(childOutput(result).contains("write after free"))
  }
}
