// swift-tools-version: 6.2
import PackageDescription

// Build settings shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "Regions",
  products: [
    .library(name: "Regions", targets: ["Regions"]),
    .library(name: "Layers", targets: ["Layers"]),
    // `LD_PRELOAD=.build/release/libRegionsPreload.so REGIONS_STACK='…' program`: any
    // dynamically linked program in a whole-process region (Docs/WholeProcess.md).
    .library(name: "RegionsPreload", type: .dynamic, targets: ["RegionsPreload"]),
  ],
  targets: [
    // C: the interposed malloc family and OS calls. No policy lives here.
    .target(name: "RegionMacrosSupport"),
    .target(name: "Layers", dependencies: ["RegionMacrosSupport"], swiftSettings: swiftSettings),
    .target(name: "Regions", dependencies: ["Layers"], swiftSettings: swiftSettings),
    .target(name: "RegionsPreload", dependencies: ["Regions"], swiftSettings: swiftSettings),

    // Shared test support: the randomized conformance checker every layer runs.
    .target(
      name: "RegionsTestSupport", dependencies: ["Layers", "RegionsTestSupportC"],
      path: "Tests/RegionsTestSupport", swiftSettings: swiftSettings),
    // The test binary's sanitizer settings (only the test binary links it).
    .target(name: "RegionsTestSupportC", path: "Tests/RegionsTestSupportC"),
    .testTarget(
      name: "LayersTests", dependencies: ["Layers", "RegionsTestSupport"],
      swiftSettings: swiftSettings),
    // The stress run (mimalloc's test-stress, in regions): a test runs it, and `soak` longer.
    .target(
      name: "Stress", dependencies: ["Regions"], path: "Tests/Stress", swiftSettings: swiftSettings),
    .testTarget(
      name: "RegionsTests", dependencies: ["Regions", "RegionsTestSupport", "Stress"],
      swiftSettings: swiftSettings),

    // A user's file importing Foundation, Dispatch, Synchronization, XCTest and Testing next to
    // Regions: it compiles only if no name of ours makes theirs ambiguous.
    .testTarget(name: "NamesTests", dependencies: ["Regions"], swiftSettings: swiftSettings),
    .testTarget(
      name: "ExamplesTests", dependencies: ["Regions", "RegionsTestSupport"],
      swiftSettings: swiftSettings),

    // Examples: executables a user runs with `swift run -c release <name>`.
    .executableTarget(
      name: "append", dependencies: ["Regions"], path: "Examples/append",
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "jsonparse", dependencies: ["Regions"], path: "Examples/jsonparse",
      exclude: ["samples"], swiftSettings: swiftSettings),
    .executableTarget(
      name: "binarytree", dependencies: ["Regions"], path: "Examples/binarytree",
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "countinglayer", dependencies: ["Regions"], path: "Examples/countinglayer",
      swiftSettings: swiftSettings),
    // The example layer, tested the way a third party would test theirs.
    .testTarget(
      name: "CountingLayerTests", dependencies: ["countinglayer", "RegionsTestSupport"],
      swiftSettings: swiftSettings),
    // `swift run -c release soak --ops 10000000`: the stress run, long (Tests/Stress).
    .executableTarget(
      name: "soak", dependencies: ["Regions", "Stress"], path: "Examples/soak",
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "tracereplay", dependencies: ["Regions"], path: "Examples/tracereplay",
      swiftSettings: swiftSettings),

    // Benchmarks are programs, never timed tests.
    // The baseline loops (malloc+free pairs) and the clock that hookbench and layerbench share.
    .target(
      name: "BenchSupport", path: "Benchmarks/Programs/BenchSupport", swiftSettings: swiftSettings),
    .executableTarget(
      name: "layerbench", dependencies: ["Layers", "BenchSupport"],
      path: "Benchmarks/Programs/layerbench",
      swiftSettings: swiftSettings),
    // Allocation workloads that Benchmarks/run times under glibc, jemalloc, mimalloc and regions.
    .executableTarget(
      name: "allocbench", dependencies: ["Regions"], path: "Benchmarks/Programs/allocbench",
      swiftSettings: swiftSettings),
    .executableTarget(
      name: "hookbench", dependencies: ["Regions", "BenchSupport"],
      path: "Benchmarks/Programs/hookbench",
      swiftSettings: swiftSettings),
    // binarytree's own source (main.swift is a symbolic link to it) built without Regions:
    // no interposer, malloc is the C library's. The baseline for the hook's cost outside regions.
    .executableTarget(
      name: "binarytree-ground", path: "Benchmarks/Programs/binarytree-ground",
      swiftSettings: swiftSettings + [.define("BINARYTREE_GROUND")]),
  ]
)
