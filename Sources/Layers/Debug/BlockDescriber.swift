/// Names what a block holds, for leak reports: set by the Regions runtime, which can tell a
/// Swift object (and its class) in a block it served through the hook. Nil in explicit-only
/// programs, where reports list addresses and sizes.
///
/// Called only when building a report, never on the allocation path.
nonisolated(unsafe) package var _blockDescriber: ((UnsafeMutableRawPointer, Int) -> String?)? = nil
