// What the module provides when the hook compiles out (under ASan and TSan, which interpose
// malloc themselves): the C library's malloc is the ground, and nothing is ever routed.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <malloc.h>
#include <stdlib.h>

#ifdef REGIONS_NO_HOOK

bool regions_hook_is_compiled(void) { return false; }
bool regions_hook_start(void) { return false; }
void regions_hook_open_regions_add(long delta) { (void)delta; }
void regions_hook_open_regions_clear(void) {}
long regions_hook_open_regions(void) { return 0; }
void regions_hook_foreign_spans_add(long delta) { (void)delta; }
unsigned long regions_hook_reentries(void) { return 0; }
void regions_hook_count_reentry(void) {}

void *regions_ground_malloc(size_t byte_count) { return malloc(byte_count); }
void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}
void regions_ground_free(void *pointer) { free(pointer); }
size_t regions_ground_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#endif
