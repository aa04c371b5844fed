import RegionMacrosSupport

// Counters for the package's tests and benchmarks: package access, not public API.

extension Region {
  /// Allocations the hook sent to the ground because the thread was already inside the hook
  /// (each one a would-be recursion). After warm-up it stays flat while regions serve
  /// allocations; tests assert that.
  package static var _hookReentries: Int { Int(regions_hook_reentries()) }

  /// Biased region locks revoked so far (a region first touched by a second thread).
  package static var _lockRevocations: Int { Int(regions_region_lock_revocations()) }

  /// Whether the hook reads the current task with one load (else through
  /// swift_task_getCurrent).
  package static var _readsTheCurrentTaskDirectly: Bool { regions_task_slot_found() }

  /// Frees that arrived while their thread was inside the Swift runtime (or the hook) and were
  /// deferred to the region's lock holder instead of calling the stack there.
  package static var _deferredFrees: Int { regions_counter_get(regions_counter_deferred_frees) }

  /// Regions open in the process, as the interposer counts them (while zero, malloc passes
  /// straight to the ground).
  package static var _openRegions: Int { regions_hook_open_regions() }

  /// Thread records the runtime has made (a thread that exits gives its record to the next).
  package static var _threadRecords: Int { Int(regions_thread_records_made()) }

  /// How many times this region's lock bias has moved to a thread (its first owner's
  /// included; a lockless region's stays at its first).
  package var _lockHandovers: Int { Int(node.core._lock.pointee.handovers) }
}
