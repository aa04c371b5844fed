// Plain OS calls: pages, reservations, safe reads, errno, standard error, fork handlers. No
// policy: callers decide what to map and when.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static size_t cached_page_size;
static _Atomic int failing_maps;

size_t regions_page_size(void) {
  size_t size = cached_page_size;
  if (size == 0) {
    size = (size_t)sysconf(_SC_PAGESIZE);
    cached_page_size = size;
  }
  return size;
}

bool regions_os_map_should_fail(void) {
  if (atomic_load_explicit(&failing_maps, memory_order_relaxed) > 0 &&
      atomic_fetch_sub(&failing_maps, 1) > 0) {
    errno = ENOMEM;
    return true;
  }
  return false;
}

static void *map_exact(size_t byte_count) {
  void *address =
      mmap(NULL, byte_count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return address == MAP_FAILED ? NULL : address;
}

void *regions_os_map(size_t byte_count, size_t alignment) {
  if (regions_os_map_should_fail()) return NULL;
  size_t page = regions_page_size();
  if (alignment <= page) return map_exact(byte_count);
  // Over-map by the alignment, then trim the unaligned head and the tail.
  size_t padded = byte_count + alignment - page;
  if (padded < byte_count) {
    errno = ENOMEM;
    return NULL;
  }
  char *raw = map_exact(padded);
  if (raw == NULL) return NULL;
  uintptr_t start = ((uintptr_t)raw + alignment - 1) & ~(uintptr_t)(alignment - 1);
  size_t head = start - (uintptr_t)raw;
  size_t tail = padded - head - byte_count;
  if (head > 0) munmap(raw, head);
  if (tail > 0) munmap((char *)start + byte_count, tail);
  return (void *)start;
}

int regions_os_unmap(void *address, size_t byte_count) { return munmap(address, byte_count); }

int regions_os_discard(void *address, size_t byte_count) {
  return madvise(address, byte_count, MADV_DONTNEED);
}

int regions_os_protect(void *address, size_t byte_count, bool accessible) {
  return mprotect(address, byte_count, accessible ? PROT_READ | PROT_WRITE : PROT_NONE);
}

void *regions_os_reserve(size_t byte_count) {
  void *address = mmap(NULL, byte_count, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return address == MAP_FAILED ? NULL : address;
}

void *regions_os_map_sparse(size_t byte_count) {
  void *address = mmap(NULL, byte_count, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return address == MAP_FAILED ? NULL : address;
}

int regions_os_commit(void *address, size_t byte_count) {
  return mprotect(address, byte_count, PROT_READ | PROT_WRITE);
}

int regions_os_decommit(void *address, size_t byte_count) {
  // A fresh inaccessible mapping over the range: drops the memory and the protection at once.
  void *result = mmap(address, byte_count, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return result == MAP_FAILED ? -1 : 0;
}

int regions_errno(void) { return errno; }
void regions_set_errno(int value) { errno = value; }

void regions_os_fail_next_maps(int count) {
  atomic_store_explicit(&failing_maps, count, memory_order_relaxed);
}

void regions_write_stderr(const char *bytes, size_t count) {
  while (count > 0) {
    ssize_t written = write(2, bytes, count);
    if (written <= 0) {
      if (written < 0 && errno == EINTR) continue;
      return;
    }
    bytes += written;
    count -= (size_t)written;
  }
}

bool regions_safe_read(const void *address, void *buffer, size_t count) {
  struct iovec local = {buffer, count};
  struct iovec remote = {(void *)address, count};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)count;
}

static _Atomic long counters[regions_counter_count];

void regions_counter_add(regions_counter counter, long delta) {
  atomic_fetch_add_explicit(&counters[counter], delta, memory_order_relaxed);
}

long regions_counter_get(regions_counter counter) {
  return atomic_load_explicit(&counters[counter], memory_order_relaxed);
}

void regions_install_fork_handlers(void (*prepare)(void), void (*parent)(void),
                                   void (*child)(void)) {
  pthread_atfork(prepare, parent, child);
}
