// The interposed malloc family.
//
// The executable's definitions of malloc & co. bind every call in the process (libswiftCore's
// included). Outside every region they pass straight to the next allocator in symbol order,
// found with dlsym(RTLD_NEXT, …): glibc, or a preloaded jemalloc / mimalloc. Inside a region,
// and for every pointer in the runtime's reserved address range, they call the Regions
// runtime's routes, which decide everything. `malloc` and `free` themselves are in Entries.c
// (assembly on x86-64) and jump to the routed paths here. Each entry point reads its own
// return address first thing (the caller classification needs the caller, and clang may
// outline the rest of a function into a `.cold` part whose return address is the entry
// point's). Under ASan / TSan (which interpose malloc themselves) the hook compiles out and the
// ground is the C library's malloc.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

REGIONS_TLS regions_thread_t regions_thread;
uintptr_t regions_binding_epoch;
uintptr_t regions_reserved_base;
uintptr_t regions_reserved_size;
void **regions_span_entries;

size_t regions_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#ifndef REGIONS_NO_HOOK

bool regions_hook_is_compiled(void) { return true; }

// MARK: The next allocator

void *(*regions_next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);
static void *(*next_pvalloc)(size_t);
static size_t (*next_usable_size)(void *);
static void free_starting(void *pointer);
void (*regions_next_free)(void *) = free_starting;

// MARK: Start-up

// Nonzero while allocations must leave the pass-through: regions are open (the count), or the
// interposer has not started (this bit).
enum { not_started = 1L << 40 };
_Atomic long regions_route_mallocs = not_started;
_Atomic long regions_foreign_spans;
static _Atomic int start_state;  // 0 not started, 1 starting, 2 started
static REGIONS_TLS bool starting_here;
static bool hook_usable;
static bool hook_started;
static _Atomic unsigned long reentries;

static void resolve_next(void) {
  regions_next_malloc = dlsym(RTLD_NEXT, "malloc");
  next_calloc = dlsym(RTLD_NEXT, "calloc");
  next_realloc = dlsym(RTLD_NEXT, "realloc");
  next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  next_memalign = dlsym(RTLD_NEXT, "memalign");
  next_valloc = dlsym(RTLD_NEXT, "valloc");
  next_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
  next_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
  regions_next_free = dlsym(RTLD_NEXT, "free");
}

/// Starts the interposer once. Returns false on the thread that is starting it, re-entered
/// from dlsym (that call is served from the bootstrap pages).
static bool start(void) {
  if (atomic_load_explicit(&start_state, memory_order_acquire) == 2) return true;
  if (starting_here) return false;
  int expected = 0;
  if (atomic_compare_exchange_strong(&start_state, &expected, 1)) {
    starting_here = true;
    hook_usable = regions_reserve_range();
    resolve_next();
    regions_find_runtime_text();
    regions_find_task_slot();
    starting_here = false;
    atomic_store_explicit(&start_state, 2, memory_order_release);
    atomic_fetch_sub(&regions_route_mallocs, not_started);
    return true;
  }
  while (atomic_load_explicit(&start_state, memory_order_acquire) != 2) {
  }
  return true;
}

__attribute__((constructor(101))) static void regions_interposer_init(void) { start(); }

static void free_starting(void *pointer) {
  if (!start()) return;  // dlsym freeing while we resolve: keep it
  free(pointer);
}

// MARK: The ground

void *regions_ground_malloc(size_t byte_count) {
  start();
  return regions_next_malloc(byte_count);
}

void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  start();
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return next_posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}

void regions_ground_free(void *pointer) {
  if (pointer == NULL || regions_in_bootstrap(pointer)) return;
  start();
  regions_next_free(pointer);
}

size_t regions_ground_usable_size(void *pointer) {
  start();
  return next_usable_size(pointer);
}

// MARK: Hook state

bool regions_hook_start(void) {
  start();
  if (!hook_usable || regions_route_malloc == NULL) return false;
  hook_started = true;
  return true;
}

void regions_hook_open_regions_add(long delta) { atomic_fetch_add(&regions_route_mallocs, delta); }
void regions_hook_open_regions_clear(void) { atomic_store(&regions_route_mallocs, 0); }
long regions_hook_open_regions(void) { return atomic_load(&regions_route_mallocs); }
void regions_hook_foreign_spans_add(long delta) { atomic_fetch_add(&regions_foreign_spans, delta); }
unsigned long regions_hook_reentries(void) { return atomic_load(&reentries); }

/// Counts a re-entry (an allocation the ground serves while the hook runs): a breakpoint spot.
__attribute__((noinline)) void regions_hook_count_reentry(void) {
  atomic_fetch_add_explicit(&reentries, 1, memory_order_relaxed);
}

static inline bool owned_elsewhere(const void *pointer) {
  return regions_in_reservation(pointer) ||
         atomic_load_explicit(&regions_foreign_spans, memory_order_relaxed) != 0;
}

/// Whether an allocation while regions are open goes to the ground without asking the
/// runtime: the thread is inside the hook or one of the Swift runtime's entry points, or the
/// caller is a runtime library allocating for itself. Checked here, before any Swift code
/// runs: the Swift runtime may hold its own locks (a metadata cache's) when its code
/// allocates, and Swift code (a debug build's metadata accessors) could need them again.
__attribute__((noinline)) static bool ground_caller_slow(const void *caller) {
  regions_thread_t *thread = &regions_thread;
  if (thread->state != NULL || thread->runtime_depth != 0) {
    if (thread->state != NULL) regions_hook_count_reentry();
    return true;
  }
  regions_caller_kind kind = regions_caller_of(caller);
  if (kind != regions_caller_program) {
    // A task, or a task's allocator, may reuse the address of one that died: cached task
    // bindings are no longer to be trusted.
    if (kind == regions_caller_concurrency) regions_binding_epoch_bump();
    return true;
  }
  thread->program_caller = caller;
  return false;
}

static inline bool ground_caller(const void *caller) {
  regions_thread_t *thread = &regions_thread;
  if (__builtin_expect(thread->state == NULL && thread->runtime_depth == 0 &&
                           caller == thread->program_caller,
                       1))
    return false;
  return ground_caller_slow(caller);
}

/// The runtime's answer for an allocation (other than malloc) while regions are open.
static inline void *route(size_t byte_count, size_t alignment, const void *caller) {
  if (ground_caller(caller)) return REGIONS_TO_GROUND;
  return regions_route_allocate(byte_count, alignment, caller);
}

// MARK: The interposed family

// malloc and free keep everything but the pass-through out of line (start-up, regions, the
// reservation), so that outside every region they are a load, a test and a jump to the next
// allocator, with no stack frame of their own.

/// malloc in a region once the filters have passed: the thread's region (its synchronous
/// scope's `binding`, not the ground's; or, with none, its task's as last looked up here)
/// through its fast path.
__attribute__((always_inline)) static inline void *malloc_bound(size_t byte_count,
                                                                 const void *caller,
                                                                 const void *binding) {
  regions_thread_t *thread = &regions_thread;
  if (binding == NULL) {
    if (__builtin_expect(!regions_task_slot_found(), 0))
      return regions_route_malloc(byte_count, caller);  // it asks swift_task_getCurrent
    const void *task = regions_current_task();
    if (task == NULL) {
      binding = regions_process_binding_load();
      if (binding == NULL) return regions_next_malloc(byte_count);
      return regions_core_serve((void *)binding, byte_count, thread);
    }
    if (__builtin_expect(
            task != thread->cached_task || regions_binding_epoch_load() != thread->cached_epoch, 0))
      return regions_route_malloc(byte_count, caller);
    binding = thread->cached_binding;
    if (binding == REGIONS_GROUND_BINDING) return regions_next_malloc(byte_count);
  }
  return regions_core_serve((void *)binding, byte_count, thread);
}

/// malloc when the caller is not the thread's last program caller (or the thread is inside
/// the hook or the runtime): the full filter, then the region.
__attribute__((noinline)) static void *malloc_filtered(size_t byte_count, const void *caller) {
  if (ground_caller_slow(caller)) return regions_next_malloc(byte_count);
  const void *binding = regions_thread.binding;
  if (binding == REGIONS_GROUND_BINDING) return regions_next_malloc(byte_count);
  return malloc_bound(byte_count, caller, binding);
}

/// malloc before the interposer has started.
__attribute__((noinline)) static void *malloc_starting(size_t byte_count, const void *caller) {
  if (!start()) return regions_interposer_bootstrap(byte_count, 16);
  if (atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed) == 0)
    return regions_next_malloc(byte_count);
  return malloc_filtered(byte_count, caller);
}

/// malloc once `routing` (regions_route_mallocs) read nonzero. Every slow call is in tail
/// position, so that the way to a region's fast path saves no register.
__attribute__((always_inline)) static inline void *malloc_routing(size_t byte_count,
                                                                  const void *caller,
                                                                  long routing) {
  if (__builtin_expect(routing >= not_started, 0)) return malloc_starting(byte_count, caller);
  regions_thread_t *thread = &regions_thread;
  const void *binding = thread->binding;
  // In a synchronous `Region.escape` every filter's answer is the ground too.
  if (binding == REGIONS_GROUND_BINDING) return regions_next_malloc(byte_count);
  if (__builtin_expect(thread->state != NULL || thread->runtime_depth != 0 ||
                           caller != thread->program_caller,
                       0))
    return malloc_filtered(byte_count, caller);
  return malloc_bound(byte_count, caller, binding);
}

/// malloc for the other entry points that read their caller (realloc, operator new, strdup).
__attribute__((noinline)) static void *malloc_other(size_t byte_count, const void *caller) {
  long routing = atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed);
  if (routing == 0) return regions_next_malloc(byte_count);
  return malloc_routing(byte_count, caller, routing);
}

void *regions_malloc_routed(size_t byte_count, long routing, const void *caller) {
  return malloc_routing(byte_count, caller, routing);
}

/// free of a pointer outside the reservation while foreign spans exist: a foreign span's
/// block, or the ground's.
__attribute__((noinline)) void regions_free_other(void *pointer) {
  if (pointer == NULL) return;
  if (!hook_started) return regions_next_free(pointer);
  regions_route_free(pointer);
}

/// free of a pointer in the reservation that no span holds: a start-up block (kept), or a
/// pointer into no block (the runtime stops).
__attribute__((noinline)) static void free_unspanned(void *pointer, uintptr_t offset) {
  if (offset < regions_bootstrap_size) return;
  if (!hook_started) return regions_next_free(pointer);
  regions_route_free(pointer);  // not a block: a stop
}

void regions_free_reserved(void *pointer, uintptr_t offset) {
  // A region block: its span's region's fast path. (The start-up pages have no span.)
  void *span = regions_span_entries[offset >> 12];
  if (__builtin_expect(span != NULL, 1)) return regions_span_free(pointer, span, &regions_thread);
  return free_unspanned(pointer, offset);
}

void *calloc(size_t count, size_t size) {
  REGIONS_CALLER(caller);
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  if (!start()) return regions_interposer_bootstrap(byte_count, 16);  // zero already
  if (atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed) != 0) {
    void *block = route(byte_count, 16, caller);
    if (block != REGIONS_TO_GROUND) {
      if (block == NULL) errno = ENOMEM;
      else memset(block, 0, byte_count);
      return block;
    }
  }
  return next_calloc(count, size);
}

// MARK: What AlignedEntries.c uses

bool regions_interposer_start(void) { return start(); }

void *regions_interposer_routed_malloc(size_t byte_count, const void *caller) {
  if (atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed) == 0)
    return NULL;
  return malloc_other(byte_count, caller);
}

void *regions_interposer_aligned_route(size_t alignment, size_t byte_count, const void *caller) {
  if (atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed) == 0)
    return REGIONS_TO_GROUND;
  return route(byte_count, alignment, caller);
}

int regions_next_posix_memalign(void **result, size_t alignment, size_t size) {
  return next_posix_memalign(result, alignment, size);
}
void *regions_next_memalign(size_t alignment, size_t size) { return next_memalign(alignment, size); }
void *regions_next_aligned_alloc(size_t alignment, size_t size) {
  return next_aligned_alloc(alignment, size);
}
void *regions_next_valloc(size_t size) { return next_valloc(size); }
void *regions_next_pvalloc(size_t size) { return next_pvalloc(size); }

// MARK: Sizes and resizing

size_t malloc_usable_size(void *pointer) {
  if (pointer == NULL) return 0;
  if (regions_in_bootstrap(pointer)) return regions_bootstrap_block_size(pointer);
  start();
  if (owned_elsewhere(pointer) && hook_started) {
    long size = regions_route_usable_size(pointer);
    if (size >= 0) return (size_t)size;
  }
  return next_usable_size(pointer);
}

static void *reallocate(void *pointer, size_t byte_count, const void *caller) {
  if (pointer == NULL) {
    if (!start()) return regions_interposer_bootstrap(byte_count, 16);
    return malloc_other(byte_count, caller);
  }
  if (byte_count == 0) {
    free(pointer);
    return NULL;
  }
  if (regions_in_bootstrap(pointer)) {
    void *moved = malloc_other(byte_count, caller);
    size_t old = regions_bootstrap_block_size(pointer);
    if (moved != NULL) memcpy(moved, pointer, old < byte_count ? old : byte_count);
    return moved;
  }
  start();
  if (owned_elsewhere(pointer) && hook_started &&
      (regions_in_reservation(pointer) || regions_route_usable_size(pointer) >= 0))
  {
    void *moved = regions_route_reallocate(pointer, byte_count, caller);
    if (moved == NULL) errno = ENOMEM;
    return moved;
  }
  // A ground block stays with the ground, wherever the call comes from.
  return next_realloc(pointer, byte_count);
}

void *realloc(void *pointer, size_t byte_count) {
  REGIONS_CALLER(caller);
  return reallocate(pointer, byte_count, caller);
}

void *reallocarray(void *pointer, size_t count, size_t size) {
  REGIONS_CALLER(caller);
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  return reallocate(pointer, byte_count, caller);
}

#endif
