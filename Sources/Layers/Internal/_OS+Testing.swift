import RegionMacrosSupport

// Hooks for the package's tests and benchmarks: package access, not public API.

/// Test support: makes the next `count` page mappings fail as if the OS had no memory left.
package func _failNextPageMappings(_ count: Int) {
  regions_os_fail_next_maps(Int32(count))
}

/// Whether this build runs under ThreadSanitizer. Tests of layers called concurrently through
/// one pointer (`Locked`, `PerThread`) skip themselves there: see Docs/Safety.md.
package var _threadSanitizerIsActive: Bool { regions_thread_sanitizer() }

/// Whether this build interposes the malloc family (false under ASan and TSan, whose own
/// allocator is then the ground).
package var _mallocHookIsCompiled: Bool { regions_hook_is_compiled() }
