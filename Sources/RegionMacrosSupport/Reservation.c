// The runtime's reserved address range and the start-up pages at its beginning.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <stdint.h>

#ifndef REGIONS_NO_HOOK

// Blocks dlsym allocates while we resolve come from the first pages of the reservation (or
// from this buffer, when no range could be reserved) and are never freed to anyone. Each has a
// 16-byte header holding its size, for realloc and malloc_usable_size.
static char fallback_range[regions_bootstrap_size] __attribute__((aligned(4096)));
static size_t bootstrap_used;
// The span table of the fallback range: no spans (free reads a pointer's entry first).
static void *fallback_entries[regions_bootstrap_size >> 12];

void *regions_interposer_bootstrap(size_t byte_count, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t start = (bootstrap_used + 16 + alignment - 1) & ~(alignment - 1);
  if (byte_count > regions_bootstrap_size || start + byte_count > regions_bootstrap_size)
    return NULL;
  bootstrap_used = start + byte_count;
  char *block = (char *)regions_reserved_base + start;
  *(size_t *)(block - 16) = byte_count;
  return block;  // never used before: zero
}

bool regions_reserve_range(void) {
  for (size_t size = (size_t)1 << 40; size >= (size_t)1 << 32; size >>= 1) {
    void *range = regions_os_reserve(size);
    if (range == NULL) continue;
    if (regions_os_commit(range, regions_bootstrap_size) != 0) {
      regions_os_unmap(range, size);
      break;
    }
    void **table = regions_os_map_sparse((size >> 12) * sizeof(void *));
    if (table == NULL) {
      regions_os_unmap(range, size);
      continue;
    }
    regions_span_entries = table;
    regions_reserved_base = (uintptr_t)range;
    regions_reserved_size = size;
    return true;
  }
  regions_span_entries = fallback_entries;
  regions_reserved_base = (uintptr_t)fallback_range;
  regions_reserved_size = sizeof fallback_range;
  return false;
}

#endif
