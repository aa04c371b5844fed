// Which mallocs the Swift runtime makes for itself (private to RegionMacrosSupport).
//
// The Swift runtime's own C++ code (metadata and conformance caches, task records) calls
// malloc directly, sometimes from inside libswiftCore where no interposed entry point sees
// it (RuntimeEntries.c). Every allocation a Swift program makes for its own values goes
// through swift_slowAlloc instead. So a block whose immediate caller lies in the runtime's
// libraries (or libstdc++ / libdispatch, which only the runtime uses in a Swift process) but
// not in swift_slowAlloc is the runtime's, and goes to the ground.
#ifndef REGIONS_RUNTIME_CALLERS_H
#define REGIONS_RUNTIME_CALLERS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  uintptr_t start, size;
} regions_text_range;

extern regions_text_range regions_runtime_text[16];
extern int regions_runtime_text_count;
extern uintptr_t regions_slow_alloc_start, regions_slow_alloc_size;

/// Finds the runtime libraries' code and swift_slowAlloc's extent (once, at start-up).
void regions_find_runtime_text(void);

/// Whether a malloc returning to `return_address` was called by the runtime for itself.
static inline bool regions_runtime_caller(const void *return_address) {
  uintptr_t address = (uintptr_t)return_address;
  if (address - regions_slow_alloc_start < regions_slow_alloc_size) return false;
  for (int i = 0; i < regions_runtime_text_count; i++)
    if (address - regions_runtime_text[i].start < regions_runtime_text[i].size) return true;
  return false;
}

#endif
