// The program break (brk / sbrk). No policy: the Sbrk layer decides when to move it.
//
// These go through the C library's sbrk/brk, never the raw system call, so that the C
// library's own idea of the break (glibc's __curbrk, which its malloc reads) stays right.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

void *regions_break_current(void) {
  void *current = sbrk(0);
  return current == (void *)-1 ? NULL : current;
}

void *regions_break_grow(size_t increment) {
  if (increment > (size_t)INTPTR_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  void *previous = sbrk((intptr_t)increment);
  return previous == (void *)-1 ? NULL : previous;
}

int regions_break_set(void *address) { return brk(address); }
