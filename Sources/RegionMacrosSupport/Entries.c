// The interposed malloc and free themselves: one test each on the way to the next allocator,
// a jump to Interposer.c's routed paths otherwise.
//
// On x86-64 they are written in assembly: compiled from C (SwiftPM builds C targets with
// -fno-omit-frame-pointer) each would push and pop a frame it never uses, since every call out
// of it is a tail call; that is 3 of malloc's 8 instructions outside regions and 3 of free's 11
// (Docs/PerformanceNotes.md). The routed paths are reached by a jump, so the program's return
// address is still on top of the stack: malloc passes it as the caller. Elsewhere the same
// logic in C.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <stdatomic.h>
#include <stdlib.h>

#ifndef REGIONS_NO_HOOK

#if defined(__x86_64__)

// malloc(byte_count: rdi): routed (rsi = the count of open regions, rdx = the caller) while
// regions_route_mallocs is nonzero, else the next allocator's.
// free(pointer: rdi): regions_free_reserved (rsi = the offset) for a pointer in the
// reservation, regions_free_other while foreign spans exist, else the next allocator's.
__asm__(".text\n"
        ".globl malloc\n"
        ".type malloc, @function\n"
        ".p2align 4\n"
        "malloc:\n"
        "  movq regions_route_mallocs(%rip), %rsi\n"
        "  movq (%rsp), %rdx\n"
        "  testq %rsi, %rsi\n"
        "  jne regions_malloc_routed\n"
        "  jmp *regions_next_malloc(%rip)\n"
        ".size malloc, .-malloc\n"
        "\n"
        ".globl free\n"
        ".type free, @function\n"
        ".p2align 4\n"
        "free:\n"
        "  movq %rdi, %rsi\n"
        "  subq regions_reserved_base(%rip), %rsi\n"
        "  cmpq regions_reserved_size(%rip), %rsi\n"
        "  jb regions_free_reserved\n"
        "  cmpq $0, regions_foreign_spans(%rip)\n"
        "  jne regions_free_other\n"
        "  jmp *regions_next_free(%rip)\n"
        ".size free, .-free\n");

#else

void *malloc(size_t byte_count) {
  REGIONS_CALLER(caller);
  long routing = atomic_load_explicit(&regions_route_mallocs, memory_order_relaxed);
  if (__builtin_expect(routing != 0, 0)) return regions_malloc_routed(byte_count, routing, caller);
  return regions_next_malloc(byte_count);
}

void free(void *pointer) {
  uintptr_t offset = (uintptr_t)pointer - regions_reserved_base;
  if (offset < regions_reserved_size) return regions_free_reserved(pointer, offset);
  if (__builtin_expect(atomic_load_explicit(&regions_foreign_spans, memory_order_relaxed), 0))
    return regions_free_other(pointer);
  regions_next_free(pointer);
}

#endif

#endif
