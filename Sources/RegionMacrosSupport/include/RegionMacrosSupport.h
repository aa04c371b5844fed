// RegionMacrosSupport: the C layer under Regions.
//
// Holds OS calls (pages, errno), the ground allocator's entry points and the per-thread
// slots the malloc hook uses. Every symbol is prefixed `regions_`. No policy lives here:
// which region serves a request, and what happens to a block, is decided in Swift.
#ifndef REGION_MACROS_SUPPORT_H
#define REGION_MACROS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Pages

/// The OS page size in bytes (cached after the first call).
size_t regions_page_size(void);

/// Maps `byte_count` bytes (a multiple of the page size) of zeroed, read-write anonymous
/// memory aligned to `alignment` (a power of two). Returns NULL and sets errno on failure.
void *regions_os_map(size_t byte_count, size_t alignment);

/// Unmaps pages mapped by `regions_os_map`. Returns 0, or -1 with errno set.
int regions_os_unmap(void *address, size_t byte_count);

/// Tells the OS it may drop the contents of these pages (they read back as zero).
int regions_os_discard(void *address, size_t byte_count);

/// Sets the protection of pages: `writable` false makes them inaccessible.
int regions_os_protect(void *address, size_t byte_count, bool accessible);

/// The calling thread's errno.
int regions_errno(void);

/// Test support: make the next `count` calls to `regions_os_map` fail with ENOMEM.
void regions_os_fail_next_maps(int count);

// MARK: - The ground

/// The process allocator that serves allocations outside every region: the next malloc in
/// symbol order (glibc, or a preloaded jemalloc / mimalloc), never the Regions hook.
void *regions_ground_malloc(size_t byte_count);
void *regions_ground_aligned(size_t alignment, size_t byte_count);
void regions_ground_free(void *pointer);
size_t regions_ground_usable_size(void *pointer);

// MARK: - Output

/// Writes bytes to standard error with write(2): no buffering, no allocation.
void regions_write_stderr(const char *bytes, size_t count);


// MARK: - Lock

/// A mutual-exclusion lock in one 32-bit word (0 when unlocked): a few spins, then futex
/// waits. Never allocates. Zero-initialize before first use.
typedef struct { _Atomic uint32_t state; } regions_lock_t;

void regions_lock_acquire_slow(regions_lock_t *lock);
void regions_lock_release_slow(regions_lock_t *lock);

/// Takes the lock: one compare-and-swap when uncontended.
static inline void regions_lock_acquire(regions_lock_t *lock) {
  uint32_t expected = 0;
  if (!__atomic_compare_exchange_n((uint32_t *)&lock->state, &expected, 1, false,
                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    regions_lock_acquire_slow(lock);
}

/// Releases the lock: one atomic exchange when nobody waits.
static inline void regions_lock_release(regions_lock_t *lock) {
  if (__atomic_exchange_n((uint32_t *)&lock->state, 0, __ATOMIC_RELEASE) == 2)
    regions_lock_release_slow(lock);
}

// MARK: - Threads

/// The calling thread's number: 1 for the first thread that asks, 2 for the next, and so on
/// (never 0; numbers are not reused when threads exit). Zero until the thread first asks.
/// Initial-exec TLS: reaching it never calls __tls_get_addr (which may malloc).
extern __thread __attribute__((tls_model("initial-exec"))) uint32_t regions_thread_number_value;

uint32_t regions_thread_number_slow(void);

/// The calling thread's number (see `regions_thread_number_value`): one TLS load after the
/// first call. Never allocates.
static inline uint32_t regions_thread_number(void) {
  uint32_t number = regions_thread_number_value;
  return number != 0 ? number : regions_thread_number_slow();
}

/// Atomic operations on a word in shared memory, for lock-free lists (PerThread's
/// remote frees). Loads are acquire, exchanges acquire-release, a successful
/// compare-exchange release (failure relaxed; `expected` gets the value seen).
static inline uintptr_t regions_atomic_load_word(uintptr_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

static inline uintptr_t regions_atomic_exchange_word(uintptr_t *word, uintptr_t value) {
  return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL);
}

static inline bool regions_atomic_compare_exchange_word(uintptr_t *word, uintptr_t *expected,
                                                        uintptr_t desired) {
  return __atomic_compare_exchange_n(word, expected, desired, true, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED);
}

// MARK: - Files

/// Creates (or truncates) a file for writing, mode 0644. Returns a descriptor, or -1 with
/// errno set.
int regions_file_create(const char *path);

/// Writes all `count` bytes with write(2), retrying on EINTR and short writes. Returns 0, or
/// -1 with errno set. Never allocates.
int regions_file_write(int descriptor, const void *bytes, size_t count);

/// Closes a descriptor. Returns 0, or -1 with errno set.
int regions_file_close(int descriptor);

#ifdef __cplusplus
}
#endif

#endif
