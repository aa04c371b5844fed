// libRegionsPreload.so: the Regions runtime as a library to preload under any dynamically
// linked program, which then runs in the whole-process region REGIONS_STACK names:
//
//     swift build -c release --product RegionsPreload
//     LD_PRELOAD=.build/release/libRegionsPreload.so \
//       REGIONS_STACK='Check(onLeak: .report) { Stats { SizeClasses { Mmap() } } }' \
//       REGIONS_REPORT=stderr python3 script.py
//
// Everything it needs is in the modules it links: the interposed malloc family
// (RegionMacrosSupport), the runtime and the process region (Regions), the layers (Layers).
// This file only gives the library a module of its own (see Docs/WholeProcess.md).
@_exported import Regions
