// The ground: the process allocator outside every region. Until the malloc hook exists in
// this target, the ground is simply the C library's allocator.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <malloc.h>
#include <stdlib.h>

void *regions_ground_malloc(size_t byte_count) { return malloc(byte_count); }

void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}

void regions_ground_free(void *pointer) { free(pointer); }

size_t regions_ground_usable_size(void *pointer) { return malloc_usable_size(pointer); }
