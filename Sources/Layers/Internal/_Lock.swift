// Note: a public import, so that inlinable layers (Locked, PerThread) can call the C inline
// lock and thread number; it does not re-export the C module to users of Layers.
public import RegionMacrosSupport

/// A one-word futex lock (`regions_lock_t`), zero when unlocked; it never allocates.
///
/// A lock works only at one fixed address: take it through a pointer to memory every thread
/// shares (a field of a layer that is itself used through one pointer, or a word in pages).
/// A copy of a lock is a different lock.
@usableFromInline
internal struct _Lock {
  @usableFromInline internal var _word = regions_lock_t()

  @inlinable init() {}

  /// Takes the lock at `address`: one compare-and-swap when nobody holds it.
  @inlinable @inline(__always)
  static func acquire(_ address: UnsafeMutableRawPointer) {
    regions_lock_acquire(address.assumingMemoryBound(to: regions_lock_t.self))
  }

  /// Releases the lock at `address`: one atomic exchange when nobody waits.
  @inlinable @inline(__always)
  static func release(_ address: UnsafeMutableRawPointer) {
    regions_lock_release(address.assumingMemoryBound(to: regions_lock_t.self))
  }
}

/// Small per-thread numbers (see `regions_thread_number`).
@usableFromInline
internal enum _Thread {
  /// The calling thread's number: 1, 2, 3… in the order threads first ask; never 0, never
  /// reused. One thread-local load after the first call.
  @inlinable @inline(__always)
  static var number: Int { Int(regions_thread_number()) }

  /// The calling thread's number, or 0 if it has not asked yet: one thread-local load and no
  /// call (for inline paths).
  @inlinable @inline(__always)
  static var numberIfKnown: Int { Int(regions_thread_number_if_known()) }
}

/// Atomic operations on a pointer-sized word in shared memory (for lock-free lists).
@usableFromInline
internal enum _AtomicWord {
  @inlinable @inline(__always)
  static func load(_ address: UnsafeMutableRawPointer) -> UInt {
    UInt(regions_atomic_load_word(address.assumingMemoryBound(to: UInt.self)))
  }

  /// Swaps in `value`; returns the previous value. Acquire and release ordering.
  @inlinable @inline(__always)
  static func exchange(_ address: UnsafeMutableRawPointer, _ value: UInt) -> UInt {
    UInt(regions_atomic_exchange_word(address.assumingMemoryBound(to: UInt.self), value))
  }

  /// Stores `desired` if the word holds `expected`; returns whether it did, and updates
  /// `expected` to the value seen when it did not. Release ordering on success.
  @inlinable @inline(__always)
  static func compareExchange(
    _ address: UnsafeMutableRawPointer, expected: inout UInt, desired: UInt
  ) -> Bool {
    regions_atomic_compare_exchange_word(
      address.assumingMemoryBound(to: UInt.self), &expected, desired)
  }
}
