// The interposed aligned entry points: posix_memalign, memalign, aligned_alloc, valloc and
// pvalloc. Each reads its caller first (see Interposer.c), applies POSIX's or glibc's rules for
// the alignment, and asks the runtime for a region block while regions are open, else the next
// allocator.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <errno.h>
#include <stdbool.h>

#ifndef REGIONS_NO_HOOK

/// The alignment glibc's memalign gives for `alignment`: the next power of two (at least 1).
static bool rounded_alignment(size_t alignment, size_t *rounded) {
  if (alignment > ((size_t)1 << 62)) return false;
  size_t power = 1;
  while (power < alignment) power <<= 1;
  *rounded = power;
  return true;
}

int posix_memalign(void **result, size_t alignment, size_t byte_count) {
  REGIONS_CALLER(caller);
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  if (!regions_interposer_start()) {
    void *block = regions_interposer_bootstrap(byte_count, alignment);
    if (block == NULL) return ENOMEM;
    *result = block;
    return 0;
  }
  void *block = regions_interposer_aligned_route(alignment, byte_count, caller);
  if (block == REGIONS_TO_GROUND) return regions_next_posix_memalign(result, alignment, byte_count);
  if (block == NULL) {
    errno = ENOMEM;
    return ENOMEM;
  }
  *result = block;
  return 0;
}

/// memalign, aligned_alloc, valloc and pvalloc in a region: glibc's rules for the alignment
/// (rounded up to a power of two; EINVAL only past 2^62).
static void *aligned_in_region(size_t alignment, size_t byte_count, const void *caller,
                               bool *to_ground) {
  *to_ground = false;
  size_t rounded;
  if (!rounded_alignment(alignment, &rounded)) {
    errno = EINVAL;
    return NULL;
  }
  void *block = regions_interposer_aligned_route(rounded, byte_count, caller);
  if (block == REGIONS_TO_GROUND) {
    *to_ground = true;
    return NULL;
  }
  if (block == NULL) errno = ENOMEM;
  return block;
}

void *memalign(size_t alignment, size_t byte_count) {
  REGIONS_CALLER(caller);
  if (!regions_interposer_start()) return regions_interposer_bootstrap(byte_count, alignment);
  bool to_ground;
  void *block = aligned_in_region(alignment, byte_count, caller, &to_ground);
  return to_ground ? regions_next_memalign(alignment, byte_count) : block;
}

void *aligned_alloc(size_t alignment, size_t byte_count) {
  REGIONS_CALLER(caller);
  if (!regions_interposer_start()) return regions_interposer_bootstrap(byte_count, alignment);
  bool to_ground;
  void *block = aligned_in_region(alignment, byte_count, caller, &to_ground);
  return to_ground ? regions_next_aligned_alloc(alignment, byte_count) : block;
}

void *valloc(size_t byte_count) {
  REGIONS_CALLER(caller);
  regions_interposer_start();
  bool to_ground;
  void *block = aligned_in_region(regions_page_size(), byte_count, caller, &to_ground);
  return to_ground ? regions_next_valloc(byte_count) : block;
}

void *pvalloc(size_t byte_count) {
  REGIONS_CALLER(caller);
  regions_interposer_start();
  size_t page = regions_page_size();
  size_t rounded = (byte_count + page - 1) & ~(page - 1);
  if (rounded < byte_count) {
    errno = ENOMEM;
    return NULL;
  }
  bool to_ground;
  void *block = aligned_in_region(page, rounded == 0 ? page : rounded, caller, &to_ground);
  return to_ground ? regions_next_pvalloc(byte_count) : block;
}

#endif
