// The futex-based lock behind regions_lock_t. States: 0 unlocked, 1 locked, 2 locked with
// waiters (Drepper, "Futexes Are Tricky", mutex 2).
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex_wait(regions_lock_t *lock, uint32_t value) {
  syscall(SYS_futex, &lock->state, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake_one(regions_lock_t *lock) {
  syscall(SYS_futex, &lock->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void regions_lock_acquire_slow(regions_lock_t *lock) {
  uint32_t *state = (uint32_t *)&lock->state;
  for (int spin = 0; spin < 64; spin++) {
    uint32_t expected = 0;
    if (__atomic_load_n(state, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(state, &expected, 1, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  while (__atomic_exchange_n(state, 2, __ATOMIC_ACQUIRE) != 0) futex_wait(lock, 2);
}

void regions_lock_release_slow(regions_lock_t *lock) { futex_wake_one(lock); }
