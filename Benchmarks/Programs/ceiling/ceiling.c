// The ceiling: how fast could binarytree run if allocation cost (next to) nothing?
//
// Not an allocator. Preloaded (LD_PRELOAD) under a program, it serves every request of at most
// 32 bytes (alignment up to 32) from a per-thread LIFO list of 32-byte cells: malloc pops
// the cell freed last (cache-hot, like glibc's tcache), free pushes it back, and an empty list
// takes a fresh cell from one reserved address range with an atomic bump. That is about the
// least work any allocator can do per block: no header, no size class lookup, no lock, no
// ownership table (one range compare). Cells are never given back to the OS and never move
// between threads' lists. Everything else passes to the next allocator (glibc).
//
// Benchmarks/run builds it with the toolchain's clang and runs binarytree under it: the ratio
// of that run to glibc bounds what any allocator, a region included, can gain on the program.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum { cell_size = 32 };
#define RESERVED_BYTES ((size_t)1 << 36)

static char *first_cell;
/// RESERVED_BYTES once the range is mapped; zero before, so that no pointer is a cell.
static size_t reserved;
static char *next_cell;
static __thread __attribute__((tls_model("initial-exec"))) void *free_cells;

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_realloc)(void *, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static size_t (*next_usable_size)(void *);

__attribute__((constructor)) static void ceiling_start(void) {
  void *range = mmap(NULL, RESERVED_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (range == MAP_FAILED) return;  // every request then goes to the next allocator
  next_cell = range;
  first_cell = range;
  reserved = RESERVED_BYTES;
}

static void resolve_next(void) {
  static int resolving;
  if (__atomic_exchange_n(&resolving, 1, __ATOMIC_ACQ_REL)) return;  // dlsym's own requests
  next_malloc = dlsym(RTLD_NEXT, "malloc");
  next_realloc = dlsym(RTLD_NEXT, "realloc");
  next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  next_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
  next_free = dlsym(RTLD_NEXT, "free");
}

static inline int is_cell(const void *pointer) {
  return (uintptr_t)pointer - (uintptr_t)first_cell < reserved;
}

static inline void *take_cell(void) {
  void *cell = free_cells;
  if (__builtin_expect(cell != NULL, 1)) {
    free_cells = *(void **)cell;
    return cell;
  }
  char *fresh = __atomic_fetch_add(&next_cell, cell_size, __ATOMIC_RELAXED);
  if (fresh + cell_size > first_cell + RESERVED_BYTES) return NULL;
  return fresh;
}

void *malloc(size_t byte_count) {
  if (byte_count <= cell_size && reserved != 0) {
    void *cell = take_cell();
    if (cell != NULL) return cell;
  }
  if (next_malloc == NULL) resolve_next();
  return next_malloc != NULL ? next_malloc(byte_count) : NULL;
}

void free(void *pointer) {
  if (is_cell(pointer)) {
    *(void **)pointer = free_cells;
    free_cells = pointer;
    return;
  }
  if (pointer == NULL) return;
  if (next_free == NULL) resolve_next();
  next_free(pointer);
}

void *calloc(size_t count, size_t size) {
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  void *block = malloc(byte_count);
  if (block != NULL) memset(block, 0, byte_count);
  return block;
}

size_t malloc_usable_size(void *pointer) {
  if (is_cell(pointer)) return cell_size;
  if (pointer == NULL) return 0;
  if (next_usable_size == NULL) resolve_next();
  return next_usable_size(pointer);
}

void *realloc(void *pointer, size_t byte_count) {
  if (pointer == NULL) return malloc(byte_count);
  if (!is_cell(pointer)) {
    if (next_realloc == NULL) resolve_next();
    return next_realloc(pointer, byte_count);
  }
  if (byte_count <= cell_size) return pointer;
  void *moved = malloc(byte_count);
  if (moved != NULL) {
    memcpy(moved, pointer, cell_size);
    free(pointer);
  }
  return moved;
}

int posix_memalign(void **result, size_t alignment, size_t byte_count) {
  if (alignment <= cell_size && byte_count <= cell_size && reserved != 0) {
    void *cell = take_cell();
    if (cell != NULL) {
      *result = cell;
      return 0;
    }
  }
  if (next_posix_memalign == NULL) resolve_next();
  return next_posix_memalign(result, alignment, byte_count);
}

void *aligned_alloc(size_t alignment, size_t byte_count) {
  void *result = NULL;
  int status = posix_memalign(&result, alignment < sizeof(void *) ? sizeof(void *) : alignment,
                              byte_count);
  if (status != 0) errno = status;
  return status == 0 ? result : NULL;
}

void *memalign(size_t alignment, size_t byte_count) { return aligned_alloc(alignment, byte_count); }
