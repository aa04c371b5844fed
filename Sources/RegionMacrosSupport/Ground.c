// The ground and the interposed malloc family.
//
// The executable's definitions of malloc & co. bind every call in the process (libswiftCore's
// included). Outside every region they pass straight to the next allocator in symbol order,
// found with dlsym(RTLD_NEXT, …): glibc, or a preloaded jemalloc / mimalloc. Inside a region
// they ask the Swift runtime (regions_hook_routes) which region serves the call. No policy
// lives here. Under ASan / TSan (which interpose malloc themselves) the hook compiles out and
// the ground is the C library's malloc.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "RuntimeCallers.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>


REGIONS_TLS bool regions_inside_hook;
REGIONS_TLS void *regions_serving;
REGIONS_TLS const void *regions_sync_binding;
#define inside_hook regions_inside_hook

size_t regions_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#ifdef REGIONS_NO_HOOK

bool regions_hook_is_compiled(void) { return false; }
void regions_hook_install(const regions_hook_routes *routes) { (void)routes; }
void regions_hook_open_regions_add(long delta) { (void)delta; }
void regions_hook_spans_add(long delta) { (void)delta; }
unsigned long regions_hook_reentries(void) { return 0; }

void *regions_ground_malloc(size_t byte_count) { return malloc(byte_count); }
void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}
void regions_ground_free(void *pointer) { free(pointer); }
size_t regions_ground_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#else

bool regions_hook_is_compiled(void) { return true; }

// MARK: The next allocator

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static size_t (*next_usable_size)(void *);

// dlsym may allocate while we resolve; those few blocks come from this buffer and are never
// freed to anyone.
static char bootstrap[16384] __attribute__((aligned(64)));
static size_t bootstrap_used;
static _Atomic int resolving;

static bool in_bootstrap(const void *pointer) {
  return (uintptr_t)pointer - (uintptr_t)bootstrap < sizeof bootstrap;  // one comparison
}

static void *bootstrap_allocate(size_t byte_count, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t start = (bootstrap_used + alignment - 1) & ~(alignment - 1);
  if (start + byte_count > sizeof bootstrap) return NULL;
  bootstrap_used = start + byte_count;
  return bootstrap + start;  // static storage is zeroed and never reused
}

static void resolve_next(void) {
  if (next_free != NULL) return;
  atomic_store(&resolving, 1);
  next_malloc = dlsym(RTLD_NEXT, "malloc");
  next_calloc = dlsym(RTLD_NEXT, "calloc");
  next_realloc = dlsym(RTLD_NEXT, "realloc");
  next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  next_memalign = dlsym(RTLD_NEXT, "memalign");
  next_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
  void (*free_function)(void *) = dlsym(RTLD_NEXT, "free");
  atomic_store(&resolving, 0);
  next_free = free_function;
}

__attribute__((constructor(101))) static void regions_hook_init(void) {
  resolve_next();
  regions_find_runtime_text();
}

#define ENSURE_NEXT()                                      \
  do {                                                     \
    if (__builtin_expect(next_free == NULL, 0)) {          \
      if (atomic_load(&resolving)) goto bootstrap_path;    \
      resolve_next();                                      \
    }                                                      \
  } while (0)

// MARK: The ground

void *regions_ground_malloc(size_t byte_count) {
  if (next_free == NULL) resolve_next();
  return next_malloc(byte_count);
}

void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  if (next_free == NULL) resolve_next();
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return next_posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}

void regions_ground_free(void *pointer) {
  if (pointer == NULL || in_bootstrap(pointer)) return;
  if (next_free == NULL) resolve_next();
  next_free(pointer);
}

size_t regions_ground_usable_size(void *pointer) {
  if (next_free == NULL) resolve_next();
  return next_usable_size(pointer);
}

// MARK: Hook state

static regions_hook_routes routes;
static _Atomic long open_regions;
static _Atomic long region_spans;
static _Atomic unsigned long reentries;

void regions_hook_install(const regions_hook_routes *new_routes) {
  if (routes.allocate == NULL) routes = *new_routes;
}

void regions_hook_open_regions_add(long delta) { atomic_fetch_add(&open_regions, delta); }
void regions_hook_spans_add(long delta) { atomic_fetch_add(&region_spans, delta); }
unsigned long regions_hook_reentries(void) { return atomic_load(&reentries); }

static inline bool regions_open(void) {
  return __builtin_expect(atomic_load_explicit(&open_regions, memory_order_relaxed) != 0, 0) &&
         regions_runtime_depth == 0;
}

static inline bool spans_exist(void) {
  return __builtin_expect(atomic_load_explicit(&region_spans, memory_order_relaxed) != 0, 0);
}

/// Called on every re-entry; a place for a debugger breakpoint.
__attribute__((noinline)) void regions_hook_reentered(void) { __asm__ volatile(""); }

/// Asks the runtime for a region block; NULL with *to_ground when the ground serves it.
static void *route_allocate(size_t byte_count, size_t alignment, bool *to_ground) {
  if (inside_hook) {
    regions_hook_reentered();
    atomic_fetch_add_explicit(&reentries, 1, memory_order_relaxed);
    *to_ground = true;
    return NULL;
  }
  inside_hook = true;
  void *result = routes.allocate(byte_count, alignment, to_ground);
  inside_hook = false;
  return result;
}

static bool route_free(void *pointer) {
  bool was_inside = inside_hook;
  inside_hook = true;
  bool handled = routes.deallocate(pointer);
  inside_hook = was_inside;
  return handled;
}

static long route_usable_size(void *pointer) {
  bool was_inside = inside_hook;
  inside_hook = true;
  long size = routes.usable_size(pointer);
  inside_hook = was_inside;
  return size;
}

static void *route_reallocate(void *pointer, size_t byte_count) {
  bool was_inside = inside_hook;
  inside_hook = true;
  void *result = routes.reallocate(pointer, byte_count);
  inside_hook = was_inside;
  return result;
}

// MARK: The interposed family

// malloc and free keep everything but the pass-through out of line (the start-up path, the
// region path), so that outside every region they compile to a few loads and a tail jump to
// the next allocator, with no stack frame of their own.

__attribute__((noinline, cold)) static void *malloc_starting(size_t byte_count) {
  if (atomic_load(&resolving)) return bootstrap_allocate(byte_count, 16);
  resolve_next();
  return malloc(byte_count);
}

/// `caller`: malloc's return address.
__attribute__((noinline)) static void *malloc_routed(size_t byte_count, const void *caller) {
  if (regions_runtime_depth == 0 && !regions_runtime_caller(caller)) {
    bool to_ground = false;
    void *result = route_allocate(byte_count, 16, &to_ground);
    if (!to_ground) return result;
  }
  return next_malloc(byte_count);
}

void *malloc(size_t byte_count) {
  if (__builtin_expect(next_free == NULL, 0)) return malloc_starting(byte_count);
  if (__builtin_expect(atomic_load_explicit(&open_regions, memory_order_relaxed) != 0, 0))
    return malloc_routed(byte_count, __builtin_return_address(0));
  return next_malloc(byte_count);
}

__attribute__((noinline, cold)) static void free_starting(void *pointer) {
  if (atomic_load(&resolving)) return;  // a block dlsym allocated while we resolved: kept
  resolve_next();
  free(pointer);
}

/// Every free but the pass-through: null, a start-up block, before the next allocator is
/// known, or while region spans exist (the block may be a region's).
__attribute__((noinline)) static void free_other(void *pointer) {
  if (pointer == NULL || in_bootstrap(pointer)) return;
  if (next_free == NULL) return free_starting(pointer);
  if (route_free(pointer)) return;
  next_free(pointer);
}

void free(void *pointer) {
  // One combined test before the pass-through, everything else out of line. A null pointer
  // passes through too when no span exists: the next allocator ignores it.
  if (__builtin_expect(in_bootstrap(pointer) | (next_free == NULL) | spans_exist(), 0))
    return free_other(pointer);
  next_free(pointer);
}

void *calloc(size_t count, size_t size) {
  ENSURE_NEXT();
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  if (regions_open() && !regions_runtime_caller(__builtin_return_address(0))) {
    bool to_ground = false;
    void *result = route_allocate(byte_count, 16, &to_ground);
    if (!to_ground) {
      if (result != NULL) memset(result, 0, byte_count);
      return result;
    }
  }
  return next_calloc(count, size);
bootstrap_path:
  return bootstrap_allocate(byte_count, 16);
}

static void *aligned_route(size_t alignment, size_t byte_count, const void *caller,
                           bool *to_ground) {
  *to_ground = true;
  if (!regions_open() || regions_runtime_caller(caller)) return NULL;
  return route_allocate(byte_count, alignment, to_ground);
}

int posix_memalign(void **result, size_t alignment, size_t byte_count) {
  ENSURE_NEXT();
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  bool to_ground;
  void *block = aligned_route(alignment, byte_count, __builtin_return_address(0), &to_ground);
  if (to_ground) return next_posix_memalign(result, alignment, byte_count);
  if (block == NULL) return ENOMEM;
  *result = block;
  return 0;
bootstrap_path:
  *result = bootstrap_allocate(byte_count, alignment);
  return *result ? 0 : ENOMEM;
}

/// aligned_alloc and memalign: the same contract, each with its own next allocator.
static void *aligned_entry(size_t alignment, size_t byte_count, const void *caller,
                           void *(*next)(size_t, size_t)) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  if (atomic_load(&resolving)) return bootstrap_allocate(byte_count, alignment);
  bool to_ground;
  void *block = aligned_route(alignment, byte_count, caller, &to_ground);
  return to_ground ? next(alignment, byte_count) : block;
}

void *aligned_alloc(size_t alignment, size_t byte_count) {
  if (next_free == NULL && !atomic_load(&resolving)) resolve_next();
  return aligned_entry(alignment, byte_count, __builtin_return_address(0), next_aligned_alloc);
}

void *memalign(size_t alignment, size_t byte_count) {
  if (next_free == NULL && !atomic_load(&resolving)) resolve_next();
  return aligned_entry(alignment, byte_count, __builtin_return_address(0), next_memalign);
}

void *valloc(size_t byte_count) { return memalign(regions_page_size(), byte_count); }

void *pvalloc(size_t byte_count) {
  size_t page = regions_page_size();
  size_t rounded = (byte_count + page - 1) & ~(page - 1);
  if (rounded < byte_count) {
    errno = ENOMEM;
    return NULL;
  }
  return memalign(page, rounded == 0 ? page : rounded);
}

size_t malloc_usable_size(void *pointer) {
  if (pointer == NULL) return 0;
  if (in_bootstrap(pointer)) return 0;
  ENSURE_NEXT();
  if (spans_exist()) {
    long size = route_usable_size(pointer);
    if (size >= 0) return (size_t)size;
  }
  return next_usable_size(pointer);
bootstrap_path:
  return 0;
}

void *realloc(void *pointer, size_t byte_count) {
  if (pointer == NULL) return malloc(byte_count);
  if (byte_count == 0) {
    free(pointer);
    return NULL;
  }
  ENSURE_NEXT();
  if (in_bootstrap(pointer)) {
    void *moved = malloc(byte_count);
    if (moved != NULL) memcpy(moved, pointer, byte_count);  // bootstrap blocks are tiny
    return moved;
  }
  if (spans_exist() && route_usable_size(pointer) >= 0)
    return route_reallocate(pointer, byte_count);
  // A ground block stays with the ground, wherever the call comes from.
  return next_realloc(pointer, byte_count);
bootstrap_path:
  return NULL;
}

void *reallocarray(void *pointer, size_t count, size_t size) {
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(pointer, byte_count);
}

#endif
