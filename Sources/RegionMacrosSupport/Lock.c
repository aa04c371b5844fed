// Locks: the futex lock behind regions_lock_t (states 0 unlocked, 1 locked, 2 locked with
// waiters; Drepper, "Futexes Are Tricky", mutex 2) and the biased region lock, with the
// per-thread records that name a lock's owner.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
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
// take it again for its next few blocks while its cache still has the region's lines.
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

uint64_t regions_monotonic_nanoseconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

// MARK: Thread records

// A thread's record names it as a lock's owner. Records are never freed: a thread that exits
// puts its record on this list (from a pthread key's destructor) and the next new thread
// takes it, so the runtime's memory stays flat however many threads come and go. A lock whose
// owner exited is then owned by the thread that inherits the record, which is safe: the
// exited thread's last release happened before the record was listed.
static regions_lock_t records_lock;
static _Atomic unsigned long records_made;
// Every record ever made, through `all_next` (never shrinks; records are reused).
static regions_thread_record *_Atomic all_records;
static regions_thread_record *free_records;
static pthread_key_t record_key;
static pthread_once_t record_key_once = PTHREAD_ONCE_INIT;

static void record_thread_exit(void *value) {
  regions_thread_record *record = value;
  if (regions_thread.record == record) regions_thread.record = NULL;
  regions_lock_acquire(&records_lock);
  record->in_use = 0;
  record->next = free_records;
  free_records = record;
  regions_lock_release(&records_lock);
}

static void make_record_key(void) { pthread_key_create(&record_key, record_thread_exit); }

regions_thread_record *regions_thread_record_slow(void) {
  pthread_once(&record_key_once, make_record_key);
  regions_lock_acquire(&records_lock);
  regions_thread_record *record = free_records;
  if (record != NULL) free_records = record->next;
  regions_lock_release(&records_lock);
  if (record == NULL) {
    // Ground memory (the next allocator), zeroed; never routed into a region.
    record = regions_ground_malloc(sizeof *record);
    if (record == NULL) return NULL;
    atomic_fetch_add_explicit(&records_made, 1, memory_order_relaxed);
    regions_thread_record *first = atomic_load(&all_records);
    do {
      record->all_next = first;
    } while (!atomic_compare_exchange_weak(&all_records, &first, record));
    record->inside = NULL;
  }
  record->in_use = 1;
  record->next = NULL;
  regions_thread.record = record;
  pthread_setspecific(record_key, record);
  return record;
}

// MARK: Region lock

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
  regions_thread_record *me = membarrier_available() ? regions_thread_record_get() : NULL;
  lock->owner = me;
  lock->unbiased = me == NULL;
  lock->handovers = 0;
  lock->last_handover = 0;
}

void regions_region_lock_reset(regions_region_lock_t *lock) {
  lock->mutex.state = 0;
  lock->owner = NULL;
  lock->unbiased = 1;
}

static bool holds_biased(regions_thread_record *record, regions_region_lock_t *lock) {
  return __atomic_load_n(&record->inside, __ATOMIC_ACQUIRE) == lock;
}

// A bias moves to a new thread at most this often before the lock gives up biasing: an
// asynchronous body that resumes on another thread now and then keeps a biased lock; two
// threads allocating in one region at once make it unbiased within a few handovers.
enum { free_handovers = 8 };
static const uint64_t handover_interval_ns = 1000000;  // 1 ms

bool regions_region_lock_acquire_slow(regions_region_lock_t *lock, regions_thread_record *me) {
  regions_lock_acquire(&lock->mutex);
  if (lock->unbiased) return false;
  regions_thread_record *owner = __atomic_load_n(&lock->owner, __ATOMIC_RELAXED);
  if (owner != NULL) {
    // Revoke: clear the owner, make every running thread fence (so the owner either sees the
    // store or has published its `inside` entry), then wait until the owner is out.
    __atomic_store_n(&lock->owner, NULL, __ATOMIC_RELAXED);
    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    while (holds_biased(owner, lock)) pause_times(1);
    atomic_fetch_add_explicit(&revocations, 1, memory_order_relaxed);
  }
  // A thread holding another lock biased takes this one's mutex, this once.
  if (me == NULL || me->inside != NULL) return false;
  uint64_t now = regions_monotonic_nanoseconds();
  if (lock->handovers >= free_handovers && now - lock->last_handover < handover_interval_ns) {
    lock->unbiased = 1;
    return false;  // the mutex is held
  }
  lock->handovers++;
  lock->last_handover = now;
  __atomic_store_n(&me->inside, lock, __ATOMIC_RELAXED);
  __atomic_store_n(&lock->owner, me, __ATOMIC_RELEASE);
  regions_lock_release(&lock->mutex);
  return true;
}

unsigned long regions_region_lock_revocations(void) { return atomic_load(&revocations); }

unsigned long regions_thread_records_made(void) { return atomic_load(&records_made); }

void regions_wait_until_no_thread_inside(const void *lock, const regions_thread_record *me) {
  // Asymmetric Dekker, as in a bias revocation: the caller has published that the lock's region
  // is closed; after the membarrier, every thread either saw that or shows its `inside` entry.
  if (membarrier_available()) syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  else atomic_thread_fence(memory_order_seq_cst);
  for (regions_thread_record *record = atomic_load(&all_records); record != NULL;
       record = record->all_next) {
    if (record == me) continue;  // the caller, which may hold the lock biased
    while (__atomic_load_n(&record->inside, __ATOMIC_ACQUIRE) == lock) pause_times(1);
  }
}

bool regions_lockless_available(void) { return membarrier_available(); }

bool regions_thread_sanitizer(void) {
#ifdef REGIONS_NO_BIAS
  return true;
#else
  return false;
#endif
}
