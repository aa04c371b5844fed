// RegionMacrosSupport: the C shim under Regions.
//
// The interposed malloc family (Interposer.c), the Swift runtime entry points it wraps
// (RuntimeEntries.c), plain OS calls (pages, futex, membarrier, files, errno) and the
// per-thread slots the hook reads. Every symbol is prefixed `regions_`. No policy lives here:
// which region serves a request, and what happens to a block, is decided in Swift (the
// Regions module's runtime), which the interposer calls through one table of routes.
#ifndef REGION_MACROS_SUPPORT_H
#define REGION_MACROS_SUPPORT_H

#include <stddef.h>
#include <stdio.h>
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

#define REGIONS_TLS __thread __attribute__((tls_model("initial-exec")))
/// Defined in this image and never preempted: hidden from other objects, and (for the
/// globals malloc and free read on every call) read with one load, without a GOT address first.
#define REGIONS_HIDDEN __attribute__((visibility("hidden")))

// MARK: - Pages (OS.c)

/// The OS page size in bytes (cached after the first call).
size_t regions_page_size(void);

/// Maps `byte_count` bytes (a multiple of the page size) of zeroed, read-write anonymous
/// memory aligned to `alignment` (a power of two), anywhere. Returns NULL and sets errno.
void *regions_os_map(size_t byte_count, size_t alignment);

/// Unmaps pages mapped by `regions_os_map`. Returns 0, or -1 with errno set.
int regions_os_unmap(void *address, size_t byte_count);

/// Tells the OS it may drop the contents of these pages (they read back as zero).
int regions_os_discard(void *address, size_t byte_count);

/// Sets the protection of pages: `accessible` false makes them inaccessible (any access
/// faults). Returns 0, or -1 with errno set (ENOMEM when the kernel's mapping limit is hit).
int regions_os_protect(void *address, size_t byte_count, bool accessible);

/// Reserves `byte_count` bytes of address space (inaccessible, no memory behind them).
void *regions_os_reserve(size_t byte_count);

/// Maps a large read-write table whose pages cost memory only once touched.
void *regions_os_map_sparse(size_t byte_count);

/// Makes reserved pages usable (read-write, zero on first touch). Returns 0, or -1 + errno.
int regions_os_commit(void *address, size_t byte_count);

/// Gives committed pages' memory back to the OS and makes them inaccessible again.
int regions_os_decommit(void *address, size_t byte_count);

/// Copies `count` bytes from `address` into `buffer` without faulting: false if any of the
/// source is not readable (process_vm_readv on our own process).
bool regions_safe_read(const void *address, void *buffer, size_t count);

/// The calling thread's errno, and setting it.
int regions_errno(void);
void regions_set_errno(int value);

/// Test support: make the next `count` page mappings (regions_os_map, and the runtime's
/// commits of reserved pages, which ask `regions_os_map_should_fail`) fail with ENOMEM.
void regions_os_fail_next_maps(int count);
bool regions_os_map_should_fail(void);

/// Writes bytes to standard error with write(2): no buffering, no allocation.
void regions_write_stderr(const char *bytes, size_t count);

// MARK: - The ground (Interposer.c)

/// The process allocator that serves allocations outside every region: the next malloc in
/// symbol order (glibc, or a preloaded jemalloc / mimalloc), never the Regions hook.
void *regions_ground_malloc(size_t byte_count);
void *regions_ground_aligned(size_t alignment, size_t byte_count);
void regions_ground_free(void *pointer);
size_t regions_ground_usable_size(void *pointer);

/// malloc_usable_size as the program sees it (through the hook), for tests and examples.
size_t regions_malloc_usable_size(void *pointer);

// MARK: - The reservation (Interposer.c)

/// The address range every region page comes from, reserved once at start-up (before the
/// first allocation is served). A pointer outside it is never a block of a region's own
/// pages, so `free` tells region blocks from the ground's with one subtraction and compare.
/// Its first `regions_bootstrap_size` bytes hold the blocks `dlsym` allocates while the
/// interposer resolves the next allocator; they are never freed to anyone.
extern REGIONS_HIDDEN uintptr_t regions_reserved_base;
extern REGIONS_HIDDEN uintptr_t regions_reserved_size;
#define regions_bootstrap_size ((size_t)65536)

static inline uintptr_t regions_reservation_base(void) { return regions_reserved_base; }
static inline uintptr_t regions_reservation_size(void) { return regions_reserved_size; }

static inline bool regions_in_reservation(const void *pointer) {
  return (uintptr_t)pointer - regions_reserved_base < regions_reserved_size;
}

/// The span table: a word per 4 KiB page of the reservation, each the span (a record of the
/// Swift runtime's) that holds the page, or NULL.
/// Mapped with the reservation, touched only where spans exist.
extern REGIONS_HIDDEN void **regions_span_entries;
static inline void **regions_span_table(void) { return regions_span_entries; }
static inline void *regions_span_of(const void *pointer) {
  return regions_span_entries[((uintptr_t)pointer - regions_reserved_base) >> 12];
}

/// Whether this build interposes the malloc family (not under ASan / TSan).
bool regions_hook_is_compiled(void);

/// Open regions in the process. While zero, allocations pass straight to the ground after
/// one relaxed load.
void regions_hook_open_regions_add(long delta);
/// No region open (a fork's child, which has closed every region it inherited, including one
/// another thread was opening or closing at the fork and had not counted yet).
void regions_hook_open_regions_clear(void);
/// Counter for tests: open regions (after start-up).
long regions_hook_open_regions(void);
/// Region spans outside the reservation (page blocks of the ground or of no region). While
/// zero, frees outside the reservation pass straight to the ground.
void regions_hook_foreign_spans_add(long delta);

/// Counter for tests: allocations served by the ground because the thread was already inside
/// the hook (each one a would-be recursion).
unsigned long regions_hook_reentries(void);
void regions_hook_count_reentry(void);

// MARK: - The per-thread context (one initial-exec TLS block: one %fs-relative load)

/// A thread's identity for region locks, and its biased-lock holdings. Records live in ground
/// memory; a thread that exits gives its record to the next thread that needs one.
typedef struct regions_thread_record {
  /// The region lock this thread holds biased, if any (see regions_region_lock_t). One at a
  /// time: a thread that needs a second lock while holding one (a region's pages taken from
  /// the region outside it) takes the second one's mutex.
  const void *inside;
  uint32_t in_use;
  struct regions_thread_record *next;
  /// Every record ever made (the list a region's close walks).
  struct regions_thread_record *all_next;
} regions_thread_record;

typedef struct {
  /// The region bound by the synchronous scope running on this thread (a region core, or
  /// REGIONS_GROUND_BINDING for `escape` to the ground), or NULL: ask the task. While a
  /// synchronous body runs, its thread runs nothing else, so this equals the task-local
  /// binding for every allocation the thread makes.
  const void *binding;
  /// The last task-local lookup on this thread: the task, the binding found, and the binding
  /// epoch it was made in (see regions_binding_epoch).
  const void *cached_task;
  const void *cached_binding;
  uintptr_t cached_epoch;
  /// What the hook's runtime is doing on this thread: NULL (nothing: the code running is the
  /// program's), REGIONS_INSIDE (the runtime runs: allocations go to the ground), or the region
  /// core whose stack it is calling (the same, and pages mapped meanwhile are that region's).
  void *state;
  /// This thread's lock identity (created on first use).
  regions_thread_record *record;
  /// The last malloc caller found not to be a runtime library (saves the range walk).
  const void *program_caller;
  /// Above zero while the thread runs one of the Swift runtime entry points whose
  /// allocations live as long as the process, or creates a thread (RuntimeEntries.c).
  uint32_t runtime_depth;
  /// While the runtime calls a region's stack for an allocation: the bytes the program asked
  /// for (layers that report in the program's sizes read it: Profile, Check, measure).
  size_t serving_byte_count;
} regions_thread_t;

#define REGIONS_GROUND_BINDING ((const void *)1)
#define REGIONS_INSIDE ((void *)1)
static inline const void *regions_ground_binding(void) { return REGIONS_GROUND_BINDING; }

extern REGIONS_TLS regions_thread_t regions_thread;

static inline regions_thread_t *regions_thread_context(void) { return &regions_thread; }

/// The calling thread's record, created (or recycled from an exited thread) on first use.
regions_thread_record *regions_thread_record_slow(void);
static inline regions_thread_record *regions_thread_record_get(void) {
  regions_thread_record *record = regions_thread.record;
  return record != NULL ? record : regions_thread_record_slow();
}

/// Marks the calling thread as inside the hook (unless it is already); returns the previous
/// state, for regions_hook_restore.
static inline void *regions_hook_enter(void) {
  void *previous = regions_thread.state;
  if (previous == NULL) regions_thread.state = REGIONS_INSIDE;
  return previous;
}
static inline void regions_hook_restore(void *previous) { regions_thread.state = previous; }
static inline void *regions_hook_inside_marker(void) { return REGIONS_INSIDE; }

// MARK: - The hook's routes (the Regions runtime defines them; Interposer.c calls them)

/// What a route returns to send the call on to the ground (the next allocator).
#define REGIONS_TO_GROUND ((void *)1)

// The one way C calls into Swift: these functions, defined by the Regions module with
// @_cdecl and referenced weakly here (a program that links RegionMacrosSupport without
// Regions has none, and never routes). Each is called only once the runtime has started
// (regions_hook_start), with the re-entry guard, the runtime depth and the caller's library
// already checked: Swift code never runs where the Swift runtime may hold its own locks.

/// malloc when the thread's context does not name its region (an asynchronous task whose
/// binding is not cached on this thread): finds the binding, then serves like the region's
/// `serve` path. The block (from a region, or the ground), or NULL with errno set.
void *regions_route_malloc(size_t byte_count, const void *caller) __attribute__((weak));
/// Any other allocation: a region's block, NULL (no memory), or REGIONS_TO_GROUND.
void *regions_route_allocate(size_t byte_count, size_t alignment, const void *caller)
    __attribute__((weak));
/// free of a pointer in the reservation or, while foreign spans exist, anywhere: the region's
/// free, or the ground's.
void regions_route_free(void *pointer) __attribute__((weak));
/// The usable size of a region block, or -1 when no region owns the pointer.
long regions_route_usable_size(void *pointer) __attribute__((weak));
/// Resizes a region block (keeping it with its owner); NULL when there is no memory.
void *regions_route_reallocate(void *pointer, size_t byte_count, const void *caller)
    __attribute__((weak));

/// Opens the whole-process region when REGIONS_STACK is set (Process.c calls it before
/// `main`, once the program's Swift code is registered): parses the text (a message and exit
/// status 2 when it does not parse), opens the region, registers the report at exit.
void regions_process_start(void) __attribute__((weak));

/// The whole-process region's core, or NULL: where a thread's allocations go when neither a
/// synchronous scope nor a task binds a region (instead of the ground).
extern REGIONS_HIDDEN const void *regions_process_binding;

static inline const void *regions_process_binding_load(void) {
  return __atomic_load_n(&regions_process_binding, __ATOMIC_ACQUIRE);
}
static inline void regions_process_binding_store(const void *core) {
  __atomic_store_n(&regions_process_binding, core, __ATOMIC_RELEASE);
}

/// Lets the interposer call the routes (once). False if the hook cannot work in this process
/// (compiled out, or no address range could be reserved).
bool regions_hook_start(void);

// MARK: - Bindings across tasks

/// Bumped whenever a task's binding may have changed without a task switch being visible:
/// a region opened or closed, an asynchronous scope bound or unbound, a task (or a task's
/// allocator) allocated by the concurrency runtime. A thread's cached task-local lookup is
/// valid while the epoch is the one it was made in.
extern REGIONS_HIDDEN uintptr_t regions_binding_epoch;

static inline uintptr_t regions_binding_epoch_load(void) {
  return __atomic_load_n(&regions_binding_epoch, __ATOMIC_ACQUIRE);
}
static inline void regions_binding_epoch_bump(void) {
  __atomic_add_fetch(&regions_binding_epoch, 1, __ATOMIC_ACQ_REL);
}

/// Offset from the thread pointer of the concurrency runtime's current-task slot, or 0 when
/// it could not be found (then regions_current_task calls swift_task_getCurrent).
extern REGIONS_HIDDEN intptr_t regions_task_slot_offset;
const void *regions_current_task_slow(void);

/// The task running on this thread (NULL when none): the variable swift_task_getCurrent
/// reads, read directly (one load) when its place is known.
static inline const void *regions_current_task(void) {
  intptr_t offset = regions_task_slot_offset;
  if (__builtin_expect(offset != 0, 1))
    return *(const void *const *)((char *)__builtin_thread_pointer() + offset);
  return regions_current_task_slow();
}

/// Whether the current-task slot was found (the hook then reads it with one load).
static inline bool regions_task_slot_found(void) { return regions_task_slot_offset != 0; }

/// Finds the current-task slot (once, at start-up; CurrentTask.c).
void regions_find_task_slot(void);

// MARK: - Runtime callers (RuntimeCallers.c)

/// Who called an interposed function, as far as routing cares.
typedef enum {
  /// The program (or a library it calls): the block belongs where the program allocates.
  regions_caller_program = 0,
  /// A runtime library allocating for itself (metadata caches, thread records, stdio
  /// buffers): the block goes to the ground.
  regions_caller_runtime = 1,
  /// The concurrency runtime: its own (tasks, task allocators) go to the ground, and a
  /// new task may reuse a freed one's address, so the binding epoch moves on.
  regions_caller_concurrency = 2,
} regions_caller_kind;

typedef struct {
  uintptr_t start, size;
  regions_caller_kind kind;
} regions_text_range;

extern regions_text_range regions_runtime_text[24];
extern int regions_runtime_text_count;
/// Functions inside those libraries whose mallocs are the program's: swift_slowAlloc (every
/// Swift value's allocation comes from it), and the C library's getline and realpath, which
/// allocate what they return to the caller.
extern regions_text_range regions_program_text[16];
extern int regions_program_text_count;

/// Finds the runtime libraries' code (once, at start-up).
void regions_find_runtime_text(void);

/// The kind of caller whose code contains `return_address`.
static inline regions_caller_kind regions_caller_of(const void *return_address) {
  uintptr_t address = (uintptr_t)return_address;
  for (int i = 0; i < regions_program_text_count; i++)
    if (address - regions_program_text[i].start < regions_program_text[i].size)
      return regions_caller_program;
  for (int i = 0; i < regions_runtime_text_count; i++)
    if (address - regions_runtime_text[i].start < regions_runtime_text[i].size)
      return regions_runtime_text[i].kind;
  return regions_caller_program;
}

// MARK: - Lock (Lock.c)

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

// MARK: - Region lock (Lock.c)

/// The lock of a region: biased towards one thread, which takes it with plain stores (no
/// atomic read-modify-write, no fence). When another thread needs it, the bias is revoked
/// (one membarrier(2) call makes every running thread of the process execute a full fence)
/// and, unless that happens often, given to the new thread; a lock whose bias moves too
/// often stays unbiased, and everyone takes `mutex`. Zero-initialize, then call
/// regions_region_lock_init on the thread that will use it first.
typedef struct {
  regions_lock_t mutex;
  /// 1 once the lock no longer takes a bias (every taker uses `mutex`).
  uint32_t unbiased;
  /// The thread holding the bias, or NULL.
  regions_thread_record *owner;
  /// Biases handed over so far, and when the last one was (CLOCK_MONOTONIC ns).
  uint32_t handovers;
  uint64_t last_handover;
} regions_region_lock_t;

void regions_region_lock_init(regions_region_lock_t *lock);
bool regions_region_lock_acquire_slow(regions_region_lock_t *lock, regions_thread_record *me);

/// Takes the lock if `me` holds its bias (and no other lock biased): two plain stores and two
/// loads. False otherwise (the lock is not taken).
static inline bool regions_region_lock_try_biased(regions_region_lock_t *lock,
                                                  regions_thread_record *me) {
  if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) != me || me->inside != NULL) return false;
  __atomic_store_n(&me->inside, lock, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  // Asymmetric Dekker: a revoker clears `owner` and then calls membarrier, so either it
  // sees our `inside` entry (and waits), or we see its store here.
  if (__atomic_load_n(&lock->owner, __ATOMIC_RELAXED) == me) return true;
  __atomic_store_n(&me->inside, NULL, __ATOMIC_RELEASE);
  return false;
}

/// Takes the lock; returns whether it was taken biased (pass that to release). `me` must not
/// be NULL.
static inline bool regions_region_lock_acquire(regions_region_lock_t *lock,
                                               regions_thread_record *me) {
  if (regions_region_lock_try_biased(lock, me)) return true;
  return regions_region_lock_acquire_slow(lock, me);
}

static inline void regions_region_lock_release(regions_region_lock_t *lock,
                                               regions_thread_record *me, bool biased) {
  if (biased) {
    __atomic_store_n(&me->inside, NULL, __ATOMIC_RELEASE);
  } else {
    regions_lock_release(&lock->mutex);
  }
}

/// Enters a region whose stack is thread-safe, without its lock: marks the thread inside it
/// (so its close waits), then checks it is still open. False (nothing marked) when the thread
/// already holds a region (nesting takes the slow path) or the region has closed.
static inline bool regions_enter_lockless(const void *lock, const bool *is_open,
                                          regions_thread_record *me) {
  if (me->inside != NULL) return false;
  __atomic_store_n(&me->inside, lock, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  if (__atomic_load_n(is_open, __ATOMIC_RELAXED)) return true;
  __atomic_store_n(&me->inside, NULL, __ATOMIC_RELEASE);
  return false;
}

static inline void regions_leave_lockless(regions_thread_record *me) {
  __atomic_store_n(&me->inside, NULL, __ATOMIC_RELEASE);
}

/// After a region's close has published that the region is closed: waits until no thread but
/// `me` (the caller) is inside it (regions_enter_lockless).
void regions_wait_until_no_thread_inside(const void *lock, const regions_thread_record *me);

/// Whether lockless regions work here (membarrier(2) is available; not under TSan).
bool regions_lockless_available(void);

// MARK: - A region's fast paths

/// malloc in the region whose core is `core`: the stack's specialized `serve` closure (a Swift
/// closure: `context` goes in the Swift context register). The final answer.
typedef __attribute__((swiftcall)) void *(*regions_serve_function)(
    void *core, size_t byte_count, regions_thread_t *thread,
    void *context __attribute__((swift_context)));
/// free of `pointer`, a live-looking block of `span` of the region whose core is `core`.
typedef __attribute__((swiftcall)) void (*regions_free_function)(
    void *core, void *pointer, void *span, regions_thread_t *thread,
    void *context __attribute__((swift_context)));

// A closure without context (a specialized stack's: it captures nothing) ignores the context
// register, so it is called without setting it: then nothing needs saving around the call and
// it is a tail call.
typedef __attribute__((swiftcall)) void *(*regions_serve_function_alone)(
    void *core, size_t byte_count, regions_thread_t *thread);
typedef __attribute__((swiftcall)) void (*regions_free_function_alone)(
    void *core, void *pointer, void *span, regions_thread_t *thread);

/// What the interposer calls for a region, at the start of its core, right after the lock (the
/// runtime checks that layout when it starts): no Swift entry point in between. `serve_entry`
/// and `free_entry` are called without a context: the closures themselves when they have none
/// (a specialized stack's), otherwise functions that pass the closure its context.
typedef struct {
  regions_serve_function_alone serve_entry;
  regions_free_function_alone free_entry;
  regions_serve_function serve;
  void *serve_context;
  regions_free_function free;
  void *free_context;
} regions_fast_paths;

/// A core's fast paths for the `serve` and `free` closures (function and context words).
regions_fast_paths regions_fast_paths_make(regions_serve_function serve, void *serve_context,
                                           regions_free_function free, void *free_context);

static inline regions_fast_paths *regions_core_fast_paths(const void *core) {
  return (regions_fast_paths *)((char *)core + sizeof(regions_region_lock_t));
}

/// malloc through the region's fast path.
static inline void *regions_core_serve(void *core, size_t byte_count, regions_thread_t *thread) {
  return regions_core_fast_paths(core)->serve_entry(core, byte_count, thread);
}

/// free through the fast path of the region owning `span` (a span's first word is its core).
static inline void regions_span_free(void *pointer, void *span, regions_thread_t *thread) {
  void *core = *(void **)span;
  regions_core_fast_paths(core)->free_entry(core, pointer, span, thread);
}

/// Makes the lock unbiased for good (after fork, in the child), without waiting.
void regions_region_lock_reset(regions_region_lock_t *lock);

/// Whether this build runs under ThreadSanitizer.
bool regions_thread_sanitizer(void);

/// Counter for tests: thread records made so far (threads that exit give theirs to new ones).
unsigned long regions_thread_records_made(void);

/// Counter for tests: biases revoked so far.
unsigned long regions_region_lock_revocations(void);

// MARK: - Runtime counters (process-wide, atomic)

typedef enum {
  regions_counter_spans = 0,
  regions_counter_span_bytes,
  regions_counter_withheld_spans,
  regions_counter_withheld_bytes,
  regions_counter_withheld_resident_bytes,
  regions_counter_cached_bytes,
  /// Frees made inside the Swift runtime (or the hook), deferred to the region's lock holder.
  regions_counter_deferred_frees,
  regions_counter_count
} regions_counter;

void regions_counter_add(regions_counter counter, long delta);
long regions_counter_get(regions_counter counter);

// MARK: - Atomics on plain words (for tables and lists shared across threads)

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
static inline void *regions_atomic_exchange_pointer(void **slot, void *value) {
  return __atomic_exchange_n(slot, value, __ATOMIC_ACQ_REL);
}
static inline void *regions_atomic_load_relaxed_pointer(void *const *slot) {
  return __atomic_load_n((void **)slot, __ATOMIC_RELAXED);
}
static inline uintptr_t regions_atomic_load_word(uintptr_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}
static inline uintptr_t regions_atomic_exchange_word(uintptr_t *word, uintptr_t value) {
  return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL);
}
/// A successful exchange is release, a failed one relaxed (`expected` gets the value seen).
static inline bool regions_atomic_compare_exchange_word(uintptr_t *word, uintptr_t *expected,
                                                        uintptr_t desired) {
  return __atomic_compare_exchange_n(word, expected, desired, true, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED);
}
static inline long regions_atomic_add_long(long *word, long delta) {
  return __atomic_add_fetch(word, delta, __ATOMIC_ACQ_REL);
}

// MARK: - Fork (Interposer.c)

/// Handlers the runtime runs around fork(): before (take the runtime's global locks), then
/// in the parent (release them) or in the child (reset them, and close every region the
/// child inherited). Installed once with pthread_atfork.
void regions_install_fork_handlers(void (*prepare)(void), void (*parent)(void),
                                   void (*child)(void));

// MARK: - Program break (Break.c)

/// The current program break (`sbrk(0)`), or NULL if the C library cannot tell.
void *regions_break_current(void);

/// Moves the break up by `increment` bytes with the C library's `sbrk`. Returns the old
/// break (the start of the new bytes), or NULL with errno set (ENOMEM) on failure.
void *regions_break_grow(size_t increment);

/// Sets the break to `address` with the C library's `brk`. Returns 0, or -1 with errno set.
int regions_break_set(void *address);

// MARK: - Threads (Thread.c)

/// The calling thread's number: 1 for the first thread that asks, 2 for the next, and so on
/// (never 0; numbers are not reused when threads exit). Zero until the thread first asks.
extern REGIONS_TLS uint32_t regions_thread_number_value;

uint32_t regions_thread_number_slow(void);

/// The calling thread's number (see `regions_thread_number_value`): one TLS load after the
/// first call. Never allocates.
static inline uint32_t regions_thread_number(void) {
  uint32_t number = regions_thread_number_value;
  return number != 0 ? number : regions_thread_number_slow();
}

/// The calling thread's number, or 0 if it has not asked yet: one TLS load, never a call.
static inline uint32_t regions_thread_number_if_known(void) {
  return regions_thread_number_value;
}

/// Monotonic time in nanoseconds.
uint64_t regions_monotonic_nanoseconds(void);

// MARK: - Call stacks (Frames.c)

/// Up to `capacity` return addresses of the calling thread's stack, innermost first, the first
/// `skip` left out (or, while the runtime serves a malloc, every frame above malloc's caller):
/// a frame-pointer walk that never allocates and stops at a frame pointer that leaves the
/// thread's stack or does not move up it. Frames of code built without frame pointers are
/// skipped (their callers' frames follow), or end the walk.
int regions_capture_frames(void **frames, int capacity, int skip);

/// What dladdr(3) knows about an address: its symbol (may be NULL) and object file.
typedef struct {
  const char *name;
  const void *start;
  const char *object;
  const void *object_base;
} regions_symbol;

/// Fills `symbol` for `address`; 0 when no loaded object contains it.
int regions_describe_address(const void *address, regions_symbol *symbol);

// MARK: - Files (File.c)

/// Creates (or truncates) a file for writing, mode 0644. Returns a descriptor, or -1 with
/// errno set.
int regions_file_create(const char *path);

/// Writes all `count` bytes with write(2), retrying on EINTR and short writes. Returns 0, or
/// -1 with errno set. Never allocates.
int regions_file_write(int descriptor, const void *bytes, size_t count);

/// Closes a descriptor. Returns 0, or -1 with errno set.
int regions_file_close(int descriptor);

// MARK: - Helper programs (Spawn.c)

/// Runs `arguments[0]` (a path) with `arguments` (NULL-terminated), its standard output in the
/// returned stream, its errors discarded, and the environment without LD_PRELOAD,
/// REGIONS_STACK and REGIONS_REPORT; NULL if it could not start. `process` receives its id.
FILE *regions_spawn_reading(char *const arguments[], int *process);
/// Closes the stream and waits for the helper.
void regions_spawn_finish(FILE *reading, int process);

#ifdef __cplusplus
}
#endif

#endif
