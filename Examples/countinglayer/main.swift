// countinglayer: a third-party layer (SizeHistogram.swift) composed with built-in ones and
// driven in explicit mode. The output is deterministic: it prints counts, never addresses.
//
//   swift run -c release countinglayer

import Regions

/// The size of request `i` in a fixed mix: mostly small, some medium, a few large, and an
/// occasional zero-byte request.
func requestSize(_ i: Int) -> Int {
  if i % 100 == 0 { return 0 }
  switch i % 10 {
  case 0...5: return 8 + (i * 7) % 57  // 8 … 64 B
  case 6...8: return 100 + (i * 131) % 3_900  // 100 B … 4 KiB
  default: return 4_096 + (i * 977) % 36_000  // 4 KiB … 40 KiB
  }
}

/// Alignment 16 for most requests, 64 for large ones.
func requestAlignment(_ byteCount: Int) -> Int { byteCount >= 4_096 ? 64 : 16 }

var stack = Stats { SizeHistogram { Chunk(4096) { Mmap() } } }

let rounds = 3
let requestsPerRound = 1_000
for round in 0..<rounds {
  var blocks: [(pointer: UnsafeMutableRawPointer, byteCount: Int)] = []
  for i in 0..<requestsPerRound {
    let byteCount = requestSize(round * requestsPerRound + i)
    guard
      let pointer = stack.allocate(byteCount: byteCount, alignment: requestAlignment(byteCount))
    else { fatalError("countinglayer: the stack is out of memory") }
    pointer.initializeMemory(
      as: UInt8.self, repeating: UInt8(truncatingIfNeeded: i), count: byteCount)
    blocks.append((pointer, byteCount))
  }
  // Give back every other block, then the rest: deallocation is sized, so each call passes
  // the byteCount and alignment of its allocation.
  for (index, block) in blocks.enumerated() where index % 2 == 1 {
    stack.deallocate(
      block.pointer, byteCount: block.byteCount, alignment: requestAlignment(block.byteCount))
  }
  for (index, block) in blocks.enumerated() where index % 2 == 0 {
    stack.deallocate(
      block.pointer, byteCount: block.byteCount, alignment: requestAlignment(block.byteCount))
  }
  // Reset: Chunk gives its chunks back to Mmap, which unmaps them. Counters survive.
  stack.reset()
}

let histogram = stack.parent
print("Requests by size (\(rounds) rounds of \(requestsPerRound) allocations, reset after each):")
print("  size       allocations  deallocations")
for bucket in 0..<SizeHistogram<Chunk<Mmap>>.bucketCount {
  let label = SizeHistogram<Chunk<Mmap>>.label(ofBucket: bucket)
  let allocations = String(histogram.allocations(inBucket: bucket))
  let deallocations = String(histogram.deallocations(inBucket: bucket))
  print(
    "  " + label.padding(to: 10) + allocations.padding(to: 13, left: true)
      + deallocations.padding(to: 15, left: true))
}
print()
print("The stack, outermost layer first:")
print(stack.report)

extension String {
  /// The string padded with spaces to `width` characters, on the right unless `left`.
  func padding(to width: Int, left: Bool = false) -> String {
    let spaces = String(repeating: " ", count: Swift.max(0, width - count))
    return left ? spaces + self : self + spaces
  }
}
