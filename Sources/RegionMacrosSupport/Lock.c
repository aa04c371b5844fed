// The futex-based lock behind regions_lock_t. States: 0 unlocked, 1 locked, 2 locked with
// waiters (Drepper, "Futexes Are Tricky", mutex 2).
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static void futex_wait(regions_lock_t *lock, uint32_t value) {
  syscall(SYS_futex, &lock->state, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake_one(regions_lock_t *lock) {
  syscall(SYS_futex, &lock->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

// Spinning before sleeping: the lock is held for tens of nanoseconds, so a waiter usually gets
// it by spinning. It waits 1, 2, 4, … up to 256 pauses between looks (24 looks, a few
// thousand pauses in all, then the futex). With a short fixed pause, two threads allocating
// in one region handed the lock back and forth on every block; backing off lets the holder
// take it again for its next few blocks while its cache still has the region's lines
// (allocbench workers ×2 in one shared region: 5.1 s → 3.0 s; Docs/PerformanceNotes.md).
enum { spin_attempts = 24, max_pauses_between_attempts = 256 };

static inline void pause_times(int count) {
  for (int i = 0; i < count; i++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void regions_lock_acquire_slow(regions_lock_t *lock) {
  uint32_t *state = (uint32_t *)&lock->state;
  int backoff = 1;
  for (int spin = 0; spin < spin_attempts; spin++) {
    uint32_t expected = 0;
    if (__atomic_load_n(state, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(state, &expected, 1, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return;
    pause_times(backoff);
    if (backoff < max_pauses_between_attempts) backoff *= 2;
  }
  while (__atomic_exchange_n(state, 2, __ATOMIC_ACQUIRE) != 0) futex_wait(lock, 2);
}

void regions_lock_release_slow(regions_lock_t *lock) { futex_wake_one(lock); }

// MARK: Region lock

REGIONS_TLS char regions_thread_identity;

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REGIONS_NO_BIAS 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define REGIONS_NO_BIAS 1
#endif

static _Atomic int membarrier_state;  // 0 unknown, 1 available, 2 unavailable
static _Atomic unsigned long revocations;

static bool membarrier_available(void) {
#ifdef REGIONS_NO_BIAS
  return false;
#else
  int state = atomic_load_explicit(&membarrier_state, memory_order_acquire);
  if (state == 0) {
    long registered =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    state = registered == 0 ? 1 : 2;
    atomic_store_explicit(&membarrier_state, state, memory_order_release);
  }
  return state == 1;
#endif
}

void regions_region_lock_init(regions_region_lock_t *lock) {
  lock->owner = membarrier_available() ? regions_current_thread() : NULL;
  lock->revoked = lock->owner == NULL;
}

// Asymmetric Dekker: the owner stores owner_inside then loads revoked with only a compiler
// fence; here we store revoked, then membarrier makes every running thread execute a full
// fence, so either we see owner_inside set (and wait for it to clear) or the owner sees
// revoked and takes the mutex instead.
void regions_region_lock_acquire_slow(regions_region_lock_t *lock) {
  regions_lock_acquire(&lock->mutex);
  if (!__atomic_load_n(&lock->revoked, __ATOMIC_RELAXED)) {
    __atomic_store_n(&lock->revoked, 1, __ATOMIC_RELAXED);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    while (__atomic_load_n(&lock->owner_inside, __ATOMIC_ACQUIRE) != 0) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    atomic_fetch_add_explicit(&revocations, 1, memory_order_relaxed);
  }
}

unsigned long regions_region_lock_revocations(void) { return atomic_load(&revocations); }

bool regions_thread_sanitizer(void) {
#ifdef REGIONS_NO_BIAS
  return true;
#else
  return false;
#endif
}
