// Call stacks for layers that record where blocks come from (Profile, Check): a frame-pointer
// walk that never allocates and never follows a frame pointer off the thread's stack, and the
// symbol of an address (dladdr). No policy.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

// This thread's stack, found once (pthread_getattr_np reads /proc/self/maps for the main
// thread and may allocate: with the hook marked inside, those allocations go to the ground).
static REGIONS_TLS uintptr_t stack_low, stack_high;

__attribute__((noinline)) static void find_stack(void) {
  void *previous = regions_hook_enter();
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    void *address = NULL;
    size_t size = 0;
    if (pthread_attr_getstack(&attributes, &address, &size) == 0 && size > 0) {
      stack_low = (uintptr_t)address;
      stack_high = (uintptr_t)address + size;
    }
    pthread_attr_destroy(&attributes);
  }
  if (stack_high == 0) stack_high = 1;  // unknown: walk nothing, and do not ask again
  regions_hook_restore(previous);
}

/// Walks up to `capacity` frames into `frames`; returns how many.
static int walk(void **frames, int capacity, uintptr_t frame) {
  int count = 0;
  // (Compared as frame <= high - 16: a garbage frame pointer near the top of the address
  // space, in code built without frame pointers, must not wrap around.)
  while (count < capacity && frame >= stack_low && stack_high >= 16 && frame <= stack_high - 16 &&
         (frame & 7) == 0) {
    const uintptr_t *words = (const uintptr_t *)frame;
    uintptr_t next = words[0];
    uintptr_t return_address = words[1];
    if (return_address == 0) break;
    frames[count++] = (void *)return_address;
    if (next <= frame) break;  // the chain must move up the stack
    frame = next;
  }
  return count;
}

__attribute__((noinline)) int regions_capture_frames(void **frames, int capacity, int skip) {
  if (__builtin_expect(stack_high == 0, 0)) find_stack();
  uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
  // While the runtime serves a malloc, the frames above its caller are the allocation
  // machinery (the interposer, the runtime, the layers): start at the caller's frame.
  const void *caller = regions_thread.state != NULL ? regions_thread.program_caller : NULL;
  enum { most = 96 };
  void *all[most];
  int total = walk(all, most, frame);
  int first = skip < total ? skip : total;
  if (caller != NULL) {
    for (int index = 0; index < total && index < 32; index++) {
      if (all[index] == caller) {
        first = index;
        break;
      }
    }
  }
  int count = total - first < capacity ? total - first : capacity;
  for (int index = 0; index < count; index++) frames[index] = all[first + index];
  return count;
}

int regions_describe_address(const void *address, regions_symbol *symbol) {
  Dl_info info;
  if (dladdr(address, &info) == 0) return 0;
  symbol->name = info.dli_sname;
  symbol->start = info.dli_saddr;
  symbol->object = info.dli_fname;
  symbol->object_base = info.dli_fbase;
  return 1;
}
