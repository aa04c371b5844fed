// Where the concurrency runtime keeps the current task, so the hook reads it with one load.
//
// swift_task_getCurrent reads a thread-local of libswift_Concurrency through __tls_get_addr:
// about 20 instructions and 4 ns a call here. A library loaded at start-up has its
// thread-locals in the static TLS area, at the same offset from the thread pointer on every
// thread. So at start-up we find the variable swift_task_getCurrent reads (from its code:
// `lea tls_index(%rip), %rdi; call __tls_get_addr; mov FIELD(%rax), %rax`), compute its
// offset from the thread pointer, and check the finding three ways: __tls_get_addr itself
// resolves the same index to the same place, the place lies in the static TLS area, and it
// holds what swift_task_getCurrent returns. If any step does not hold (another compiler's
// code, a library loaded later), regions_task_slot_offset stays 0 and the hook calls
// swift_task_getCurrent instead.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <dlfcn.h>
#include <string.h>

intptr_t regions_task_slot_offset;

typedef struct {
  unsigned long module, offset;
} tls_index;
extern void *__tls_get_addr(tls_index *index);

static const void *(*get_current_task)(void);

const void *regions_current_task_slow(void) {
  return get_current_task != NULL ? get_current_task() : NULL;
}

void regions_find_task_slot(void) {
  get_current_task = (const void *(*)(void))dlsym(RTLD_DEFAULT, "swift_task_getCurrent");
  const unsigned char *code = (const unsigned char *)get_current_task;
  if (code == NULL) return;
  size_t at = 0;
  if (memcmp(code, "\x55\x48\x89\xe5", 4) == 0) at = 4;  // push %rbp; mov %rsp, %rbp
  if (memcmp(code + at, "\x48\x8d\x3d", 3) != 0) return;  // lea disp32(%rip), %rdi
  int32_t displacement;
  memcpy(&displacement, code + at + 3, 4);
  tls_index *index = (tls_index *)(code + at + 7 + displacement);
  at += 7;
  if (code[at] != 0xe8) return;  // call __tls_get_addr
  at += 5;
  long field;
  if (memcmp(code + at, "\x48\x8b\x80", 3) == 0) {  // mov disp32(%rax), %rax
    int32_t value;
    memcpy(&value, code + at + 3, 4);
    field = value;
  } else if (memcmp(code + at, "\x48\x8b\x40", 3) == 0) {  // mov disp8(%rax), %rax
    field = (int8_t)code[at + 3];
  } else if (memcmp(code + at, "\x48\x8b\x00", 3) == 0) {  // mov (%rax), %rax
    field = 0;
  } else {
    return;
  }
  char *slot = (char *)__tls_get_addr(index) + field;
  char *thread_pointer = (char *)__builtin_thread_pointer();
  intptr_t offset = slot - thread_pointer;
  if (offset >= 0 || offset < -((intptr_t)1 << 26)) return;  // not in the static TLS area
  if (*(const void *const *)slot != get_current_task()) return;
  regions_task_slot_offset = offset;
}
