// The program from the Myrddin region library's README, in Swift.
//
//   swift run -c release append
//
// Arrays built inside the region live in the region's stack; joining them into `xs` under
// `Region.escape` puts the joined arrays in the next region out (here the ground), so `xs`
// outlives the region. Afterwards `b` holds what its layers saw.
import Regions

func describe(_ xs: [Int]) -> String {
  let address = xs.withUnsafeBufferPointer { $0.baseAddress.map { "\($0)" } ?? "nil" }
  return "\(xs)@\(address)"
}

var b = Stats { Chunk(4096) { Batch { Check { Stats { Mmap() } } } } }

var xs: [Int] = []
print("outside region xs: \(describe(xs))")

xs = Region.enter(&b) {
  var ys: [Int] = []
  for i in 0..<5 { ys.append(i) }
  xs = Region.escape { xs + ys }

  var zs: [Int] = []
  for i in 0..<5 { zs.append(i + i * 10) }
  xs = Region.escape { xs + zs }

  return xs
}

print("outside region xs: \(describe(xs))")
print(b, terminator: "")
print(b.report)
