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

// REGIONS_NO_HOOK: defined under ASan and TSan (clang's __has_feature, gcc's __SANITIZE_*__),
// which interpose malloc themselves; the hook then compiles out.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REGIONS_NO_HOOK 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REGIONS_NO_HOOK 1
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

/// Sets the protection of pages: `accessible` false makes them inaccessible (any access faults).
int regions_os_protect(void *address, size_t byte_count, bool accessible);

/// Copies `count` bytes from `address` into `buffer` without faulting: false if any of the
/// source is not readable (process_vm_readv on our own process).
bool regions_safe_read(const void *address, void *buffer, size_t count);

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

/// A mutual-exclusion lock in one 32-bit word (0 when unlocked): spins with backoff, then futex
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

// MARK: - The hook

/// Whether this build interposes the malloc family (not under ASan / TSan).
bool regions_hook_is_compiled(void);

/// The Swift runtime's answers for the hook. Installed once by Regions; every pointer is
/// called with the calling thread marked as inside the hook, so allocations made while
/// answering go to the ground instead of recursing.
typedef struct {
  /// Serves an allocation from the current task's innermost open region. Returns the block,
  /// or NULL with *to_ground set when no region is open for this task (the ground serves it).
  void *(*allocate)(size_t byte_count, size_t alignment, bool *to_ground);
  /// Frees a block if a region owns it; returns false for anything else.
  bool (*deallocate)(void *pointer);
  /// The usable size of a region block, or -1 when no region owns the pointer.
  long (*usable_size)(void *pointer);
  /// Resizes a region block (keeping it with its owner); only called for region blocks.
  void *(*reallocate)(void *pointer, size_t byte_count);
} regions_hook_routes;

/// Installs the routes (once; later calls are ignored).
void regions_hook_install(const regions_hook_routes *routes);

/// Open regions in the process. While zero, allocations pass straight to the ground after
/// one relaxed load.
void regions_hook_open_regions_add(long delta);
/// Region spans in the process. While zero, frees pass straight to the ground.
void regions_hook_spans_add(long delta);

/// malloc_usable_size as the program sees it (through the hook), for tests and examples.
size_t regions_malloc_usable_size(void *pointer);

/// Counter for tests: allocations served by the ground because the thread was already inside
/// the hook (each one a would-be recursion).
unsigned long regions_hook_reentries(void);

// MARK: - Per-thread slots (initial-exec TLS: one instruction to reach)

#define REGIONS_TLS __thread __attribute__((tls_model("initial-exec")))
extern REGIONS_TLS bool regions_inside_hook;
extern REGIONS_TLS void *regions_serving;
extern REGIONS_TLS char regions_thread_identity;

/// Marks the calling thread as inside (or outside) the hook; returns the previous state.
static inline bool regions_hook_set_inside(bool inside) {
  bool previous = regions_inside_hook;
  regions_inside_hook = inside;
  return previous;
}

/// The region currently being served on this thread (opaque to C), for page-source tagging.
static inline void *regions_serving_region(void) { return regions_serving; }
static inline void regions_set_serving_region(void *region) { regions_serving = region; }

/// The region bound by the synchronous scope running on this thread (NULL: none, so ask the
/// task-local). While a synchronous body runs, its thread runs nothing else, so this equals
/// the task-local binding for every allocation the thread makes.
extern REGIONS_TLS const void *regions_sync_binding;
static inline const void *regions_get_sync_binding(void) { return regions_sync_binding; }
static inline void regions_set_sync_binding(const void *binding) { regions_sync_binding = binding; }

/// Above zero while the thread runs one of the Swift runtime entry points whose allocations
/// live as long as the process (metadata, conformances, lazy globals, task records): the
/// hook sends those to the ground (RuntimeEntries.c).
extern REGIONS_TLS unsigned regions_runtime_depth;

/// A unique identity for the calling thread (the address of a thread-local).
static inline const void *regions_current_thread(void) { return &regions_thread_identity; }

// MARK: - Region lock

/// The lock of a region: biased towards the thread that created it, which takes it with
/// plain stores (no atomic read-modify-write). The first time another thread takes it, the
/// bias is revoked for good (one membarrier(2) call) and every thread uses `mutex`.
/// Zero-initialize, then call regions_region_lock_init on the owning thread.
typedef struct {
  regions_lock_t mutex;
  uint32_t revoked;
  const void *owner;
  uint32_t owner_inside;
} regions_region_lock_t;

/// Biases the lock towards the calling thread (when the kernel supports membarrier).
void regions_region_lock_init(regions_region_lock_t *lock);
void regions_region_lock_acquire_slow(regions_region_lock_t *lock);

/// Takes the lock; returns whether it was taken biased (pass that to release).
static inline bool regions_region_lock_acquire(regions_region_lock_t *lock) {
  if (lock->owner == regions_current_thread()) {
    __atomic_store_n(&lock->owner_inside, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&lock->revoked, __ATOMIC_RELAXED)) return true;
    __atomic_store_n(&lock->owner_inside, 0, __ATOMIC_RELEASE);
  }
  regions_region_lock_acquire_slow(lock);
  return false;
}

static inline void regions_region_lock_release(regions_region_lock_t *lock, bool biased) {
  if (biased) {
    __atomic_store_n(&lock->owner_inside, 0, __ATOMIC_RELEASE);
  } else {
    regions_lock_release(&lock->mutex);
  }
}

/// Whether this build runs under ThreadSanitizer.
bool regions_thread_sanitizer(void);

/// Counter for tests: biases revoked so far.
unsigned long regions_region_lock_revocations(void);

// MARK: - Page routes

/// How Regions learns which pages serve which region: source layers get pages through
/// regions_pages_acquire / regions_pages_release, which go to these routes once installed
/// (and straight to the OS before).
typedef struct {
  void *(*acquire)(size_t byte_count, size_t alignment);
  void (*release)(void *address, size_t byte_count);
  /// Pages from the region enclosing the one being served (or the ground when
  /// `ground_only`, or when there is none): the sources OuterRegionPages and GroundPages.
  void *(*acquire_outer)(size_t byte_count, size_t alignment, bool ground_only);
  void (*release_outer)(void *address, size_t byte_count);
} regions_page_routes;

void regions_pages_install(const regions_page_routes *routes);
void *regions_pages_acquire(size_t byte_count, size_t alignment);
void regions_pages_release(void *address, size_t byte_count);
/// `byte_count` a multiple of the page size, `alignment` at least the page size.
void *regions_outer_acquire(size_t byte_count, size_t alignment, bool ground_only);
void regions_outer_release(void *address, size_t byte_count);

// MARK: - Runtime counters (process-wide, atomic)

typedef enum {
  regions_counter_spans = 0,
  regions_counter_span_bytes,
  regions_counter_withheld_spans,
  regions_counter_withheld_bytes,
  regions_counter_cached_bytes,
  regions_counter_count
} regions_counter;

void regions_counter_add(regions_counter counter, long delta);
long regions_counter_get(regions_counter counter);

// MARK: - Atomics on plain words (for tables shared across threads)

static inline void *regions_atomic_load_pointer(void *const *slot) {
  return __atomic_load_n((void **)slot, __ATOMIC_ACQUIRE);
}
static inline void regions_atomic_store_pointer(void **slot, void *value) {
  __atomic_store_n(slot, value, __ATOMIC_RELEASE);
}
static inline bool regions_atomic_cas_pointer(void **slot, void *expected, void *desired) {
  return __atomic_compare_exchange_n(slot, &expected, desired, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}
// MARK: - Program break

/// The current program break (`sbrk(0)`), or NULL if the C library cannot tell.
void *regions_break_current(void);

/// Moves the break up by `increment` bytes with the C library's `sbrk`. Returns the old
/// break (the start of the new bytes), or NULL with errno set (ENOMEM) on failure.
void *regions_break_grow(size_t increment);

/// Sets the break to `address` with the C library's `brk`. Returns 0, or -1 with errno set.
int regions_break_set(void *address);

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
