// Small per-thread numbers for layers that keep per-thread state (PerThread). No policy:
// the number only names the thread; what a layer does with it is decided in Swift.
#include "RegionMacrosSupport.h"

__thread __attribute__((tls_model("initial-exec"))) uint32_t regions_thread_number_value;
static _Atomic uint32_t threads_numbered;

uint32_t regions_thread_number_slow(void) {
  uint32_t number = __atomic_add_fetch((uint32_t *)&threads_numbered, 1, __ATOMIC_RELAXED);
  if (number == 0) number = __atomic_add_fetch((uint32_t *)&threads_numbered, 1, __ATOMIC_RELAXED);
  regions_thread_number_value = number;
  return number;
}
