// What the interposer's files share (Interposer.c defines it): not part of the module's
// interface, hidden from other objects.
#ifndef REGIONS_INTERPOSER_H
#define REGIONS_INTERPOSER_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "RegionMacrosSupport.h"

/// The next definition of `name` in symbol order (what an interposed entry point forwards
/// to), found with dlsym(RTLD_NEXT, …) on the first call and kept in `slot`.
static inline void *regions_next_definition(void **slot, const char *name) {
  void *next = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (__builtin_expect(next == NULL, 0)) {
    next = dlsym(RTLD_NEXT, name);
    __atomic_store_n(slot, next, __ATOMIC_RELAXED);
  }
  return next;
}

/// The caller of the function this appears in: its return address, read in the entry block
/// and pinned there (an empty asm the optimizer cannot move into an outlined cold part).
#define REGIONS_CALLER(name)                          \
  const void *name = __builtin_return_address(0); \
  __asm__ volatile("" : "+r"(name))

// What `malloc` and `free` (Entries.c) read on every call, and where they go next.

/// Nonzero while allocations must leave the pass-through: regions are open (their count), or
/// the interposer has not started.
REGIONS_HIDDEN extern _Atomic long regions_route_mallocs;
/// Nonzero while spans outside the reservation exist (a free must look them up).
REGIONS_HIDDEN extern _Atomic long regions_foreign_spans;
/// The next allocator's malloc and free (found with dlsym(RTLD_NEXT, …)).
REGIONS_HIDDEN extern void *(*regions_next_malloc)(size_t);
REGIONS_HIDDEN extern void (*regions_next_free)(void *);
/// malloc once `regions_route_mallocs` read `routing`, nonzero, for a call from `caller`.
REGIONS_HIDDEN void *regions_malloc_routed(size_t byte_count, long routing, const void *caller);
/// free of a pointer `offset` bytes into the reservation.
REGIONS_HIDDEN void regions_free_reserved(void *pointer, uintptr_t offset);
/// free of a pointer outside the reservation while foreign spans exist.
REGIONS_HIDDEN void regions_free_other(void *pointer);

/// malloc for an entry point that read its own caller (operator new, strdup: CallerEntries.c):
/// a region's block or the ground's while regions are open, NULL when no region is open or
/// there is no memory.
REGIONS_HIDDEN void *regions_interposer_routed_malloc(size_t byte_count, const void *caller);

/// Starts the interposer once; false on the thread starting it, re-entered from dlsym.
REGIONS_HIDDEN bool regions_interposer_start(void);
/// Reserves the runtime's address range (Reservation.c): 1 TiB of address space if the system
/// allows it, less if not (a smaller range only limits how much region memory can exist at
/// once). False when none could be reserved: the start-up pages are then a static buffer, and
/// the hook never routes.
REGIONS_HIDDEN bool regions_reserve_range(void);
/// A block of the start-up pages (for dlsym's allocations while the interposer starts), never
/// freed to anyone; NULL when they are used up.
REGIONS_HIDDEN void *regions_interposer_bootstrap(size_t byte_count, size_t alignment);

/// Whether `pointer` lies in the start-up pages.
static inline bool regions_in_bootstrap(const void *pointer) {
  return (uintptr_t)pointer - regions_reserved_base < regions_bootstrap_size;
}

/// The size a start-up block was asked for (kept in the 16 bytes before it).
static inline size_t regions_bootstrap_block_size(const void *pointer) {
  return *(const size_t *)((const char *)pointer - 16);
}
/// A region block for an aligned entry point, NULL (no memory), or REGIONS_TO_GROUND (no
/// region open, or the caller's allocation is the ground's).
REGIONS_HIDDEN void *regions_interposer_aligned_route(size_t alignment, size_t byte_count,
                                                      const void *caller);

// The next allocator's aligned entry points.
REGIONS_HIDDEN int regions_next_posix_memalign(void **result, size_t alignment, size_t size);
REGIONS_HIDDEN void *regions_next_memalign(size_t alignment, size_t size);
REGIONS_HIDDEN void *regions_next_aligned_alloc(size_t alignment, size_t size);
REGIONS_HIDDEN void *regions_next_valloc(size_t size);
REGIONS_HIDDEN void *regions_next_pvalloc(size_t size);

#endif
