// The ground and the interposed malloc family.
//
// The executable's definitions of malloc & co. bind every call in the process (libswiftCore's
// included). Outside every region they pass straight to the next allocator in symbol order,
// found with dlsym(RTLD_NEXT, …): glibc, or a preloaded jemalloc / mimalloc. Inside a region
// they ask the Swift runtime (regions_hook_routes) which region serves the call. No policy
// lives here. Under ASan / TSan (which interpose malloc themselves) the hook compiles out and
// the ground is the C library's malloc.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>


REGIONS_TLS bool regions_inside_hook;
REGIONS_TLS void *regions_serving;
REGIONS_TLS const void *regions_sync_binding;
#define inside_hook regions_inside_hook

size_t regions_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#ifdef REGIONS_NO_HOOK

bool regions_hook_is_compiled(void) { return false; }
void regions_hook_install(const regions_hook_routes *routes) { (void)routes; }
void regions_hook_open_regions_add(long delta) { (void)delta; }
void regions_hook_spans_add(long delta) { (void)delta; }
unsigned long regions_hook_reentries(void) { return 0; }

void *regions_ground_malloc(size_t byte_count) { return malloc(byte_count); }
void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}
void regions_ground_free(void *pointer) { free(pointer); }
size_t regions_ground_usable_size(void *pointer) { return malloc_usable_size(pointer); }

#else

bool regions_hook_is_compiled(void) { return true; }

// MARK: The next allocator

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static size_t (*next_usable_size)(void *);

// dlsym may allocate while we resolve; those few blocks come from this buffer and are never
// freed to anyone.
static char bootstrap[16384] __attribute__((aligned(64)));
static size_t bootstrap_used;
static _Atomic int resolving;

static bool in_bootstrap(const void *pointer) {
  return (const char *)pointer >= bootstrap && (const char *)pointer < bootstrap + sizeof bootstrap;
}

static void *bootstrap_allocate(size_t byte_count, size_t alignment) {
  if (alignment < 16) alignment = 16;
  size_t start = (bootstrap_used + alignment - 1) & ~(alignment - 1);
  if (start + byte_count > sizeof bootstrap) return NULL;
  bootstrap_used = start + byte_count;
  return bootstrap + start;  // static storage is zeroed and never reused
}

static void resolve_next(void) {
  if (next_free != NULL) return;
  atomic_store(&resolving, 1);
  next_malloc = dlsym(RTLD_NEXT, "malloc");
  next_calloc = dlsym(RTLD_NEXT, "calloc");
  next_realloc = dlsym(RTLD_NEXT, "realloc");
  next_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  next_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  next_memalign = dlsym(RTLD_NEXT, "memalign");
  next_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
  void (*free_function)(void *) = dlsym(RTLD_NEXT, "free");
  atomic_store(&resolving, 0);
  next_free = free_function;
}

// MARK: Runtime callers

// The Swift runtime's own C++ code (metadata and conformance caches, task records) calls
// malloc directly, sometimes from inside libswiftCore where no interposed entry point sees
// it (RuntimeEntries.c). Every allocation a Swift program makes for its own values goes
// through swift_slowAlloc instead. So a block whose immediate caller lies in the runtime's
// libraries (or libstdc++ / libdispatch, which only the runtime uses in a Swift process) but
// not in swift_slowAlloc is the runtime's, and goes to the ground.
typedef struct {
  uintptr_t start, size;
} regions_text_range;

static regions_text_range runtime_text[16];
static int runtime_text_count;
static uintptr_t slow_alloc_start, slow_alloc_size;

static bool is_runtime_library(const char *path) {
  const char *name = strrchr(path, '/');
  name = name ? name + 1 : path;
  static const char *const prefixes[] = {"libswiftCore.so", "libswift_Concurrency.so",
                                         "libstdc++.so", "libdispatch.so"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) return true;
  return false;
}

static int collect_runtime_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  if (info->dlpi_name == NULL || !is_runtime_library(info->dlpi_name)) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *header = &info->dlpi_phdr[i];
    if (header->p_type != PT_LOAD || !(header->p_flags & PF_X)) continue;
    if (runtime_text_count == sizeof runtime_text / sizeof runtime_text[0]) return 1;
    runtime_text[runtime_text_count].start = info->dlpi_addr + header->p_vaddr;
    runtime_text[runtime_text_count].size = header->p_memsz;
    runtime_text_count++;
  }
  return 0;
}

static void find_runtime_text(void) {
  void *slow_alloc = dlsym(RTLD_DEFAULT, "swift_slowAlloc");
  Dl_info info;
  const ElfW(Sym) *symbol = NULL;
  if (slow_alloc == NULL ||
      dladdr1(slow_alloc, &info, (void **)&symbol, RTLD_DL_SYMENT) == 0 || symbol == NULL ||
      symbol->st_size == 0)
    return;  // not a Swift process we understand: every caller counts as the program's
  slow_alloc_start = (uintptr_t)slow_alloc;
  slow_alloc_size = symbol->st_size;
  dl_iterate_phdr(collect_runtime_text, NULL);
}

static inline bool runtime_caller(const void *return_address) {
  uintptr_t address = (uintptr_t)return_address;
  if (address - slow_alloc_start < slow_alloc_size) return false;
  for (int i = 0; i < runtime_text_count; i++)
    if (address - runtime_text[i].start < runtime_text[i].size) return true;
  return false;
}

__attribute__((constructor(101))) static void regions_hook_init(void) {
  resolve_next();
  find_runtime_text();
}

#define ENSURE_NEXT()                                      \
  do {                                                     \
    if (__builtin_expect(next_free == NULL, 0)) {          \
      if (atomic_load(&resolving)) goto bootstrap_path;    \
      resolve_next();                                      \
    }                                                      \
  } while (0)

// MARK: The ground

void *regions_ground_malloc(size_t byte_count) {
  if (next_free == NULL) resolve_next();
  return next_malloc(byte_count);
}

void *regions_ground_aligned(size_t alignment, size_t byte_count) {
  if (next_free == NULL) resolve_next();
  void *result = NULL;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  return next_posix_memalign(&result, alignment, byte_count) == 0 ? result : NULL;
}

void regions_ground_free(void *pointer) {
  if (pointer == NULL || in_bootstrap(pointer)) return;
  if (next_free == NULL) resolve_next();
  next_free(pointer);
}

size_t regions_ground_usable_size(void *pointer) {
  if (next_free == NULL) resolve_next();
  return next_usable_size(pointer);
}

// MARK: Hook state

static regions_hook_routes routes;
static _Atomic long open_regions;
static _Atomic long region_spans;
static _Atomic unsigned long reentries;

void regions_hook_install(const regions_hook_routes *new_routes) {
  if (routes.allocate == NULL) routes = *new_routes;
}

void regions_hook_open_regions_add(long delta) { atomic_fetch_add(&open_regions, delta); }
void regions_hook_spans_add(long delta) { atomic_fetch_add(&region_spans, delta); }
unsigned long regions_hook_reentries(void) { return atomic_load(&reentries); }

static inline bool regions_open(void) {
  return __builtin_expect(atomic_load_explicit(&open_regions, memory_order_relaxed) != 0, 0) &&
         regions_runtime_depth == 0;
}

static inline bool spans_exist(void) {
  return __builtin_expect(atomic_load_explicit(&region_spans, memory_order_relaxed) != 0, 0);
}

/// Asks the runtime for a region block; NULL with *to_ground when the ground serves it.
/// Called on every re-entry; a place for a debugger breakpoint.
__attribute__((noinline)) void regions_hook_reentered(void) { __asm__ volatile(""); }

static void *route_allocate(size_t byte_count, size_t alignment, bool *to_ground) {
  if (inside_hook) {
    regions_hook_reentered();
    atomic_fetch_add_explicit(&reentries, 1, memory_order_relaxed);
    *to_ground = true;
    return NULL;
  }
  inside_hook = true;
  void *result = routes.allocate(byte_count, alignment, to_ground);
  inside_hook = false;
  return result;
}

static bool route_free(void *pointer) {
  bool was_inside = inside_hook;
  inside_hook = true;
  bool handled = routes.deallocate(pointer);
  inside_hook = was_inside;
  return handled;
}

static long route_usable_size(void *pointer) {
  bool was_inside = inside_hook;
  inside_hook = true;
  long size = routes.usable_size(pointer);
  inside_hook = was_inside;
  return size;
}

// MARK: The interposed family

void *malloc(size_t byte_count) {
  ENSURE_NEXT();
  if (regions_open() && !runtime_caller(__builtin_return_address(0))) {
    bool to_ground = false;
    void *result = route_allocate(byte_count, 16, &to_ground);
    if (!to_ground) return result;
  }
  return next_malloc(byte_count);
bootstrap_path:
  return bootstrap_allocate(byte_count, 16);
}

void free(void *pointer) {
  if (pointer == NULL || in_bootstrap(pointer)) return;
  ENSURE_NEXT();
  if (spans_exist() && route_free(pointer)) return;
  next_free(pointer);
  return;
bootstrap_path:
  return;
}

void *calloc(size_t count, size_t size) {
  ENSURE_NEXT();
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  if (regions_open() && !runtime_caller(__builtin_return_address(0))) {
    bool to_ground = false;
    void *result = route_allocate(byte_count, 16, &to_ground);
    if (!to_ground) {
      if (result != NULL) memset(result, 0, byte_count);
      return result;
    }
  }
  return next_calloc(count, size);
bootstrap_path:
  return bootstrap_allocate(byte_count, 16);
}

static void *aligned_route(size_t alignment, size_t byte_count, const void *caller,
                           bool *to_ground) {
  *to_ground = true;
  if (!regions_open() || runtime_caller(caller)) return NULL;
  return route_allocate(byte_count, alignment, to_ground);
}

int posix_memalign(void **result, size_t alignment, size_t byte_count) {
  ENSURE_NEXT();
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  bool to_ground;
  void *block = aligned_route(alignment, byte_count, __builtin_return_address(0), &to_ground);
  if (to_ground) return next_posix_memalign(result, alignment, byte_count);
  if (block == NULL) return ENOMEM;
  *result = block;
  return 0;
bootstrap_path:
  *result = bootstrap_allocate(byte_count, alignment);
  return *result ? 0 : ENOMEM;
}

/// aligned_alloc and memalign: the same contract, each with its own next allocator.
static void *aligned_entry(size_t alignment, size_t byte_count, const void *caller,
                           void *(*next)(size_t, size_t)) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  if (atomic_load(&resolving)) return bootstrap_allocate(byte_count, alignment);
  bool to_ground;
  void *block = aligned_route(alignment, byte_count, caller, &to_ground);
  return to_ground ? next(alignment, byte_count) : block;
}

void *aligned_alloc(size_t alignment, size_t byte_count) {
  if (next_free == NULL && !atomic_load(&resolving)) resolve_next();
  return aligned_entry(alignment, byte_count, __builtin_return_address(0), next_aligned_alloc);
}

void *memalign(size_t alignment, size_t byte_count) {
  if (next_free == NULL && !atomic_load(&resolving)) resolve_next();
  return aligned_entry(alignment, byte_count, __builtin_return_address(0), next_memalign);
}

void *valloc(size_t byte_count) { return memalign(regions_page_size(), byte_count); }

void *pvalloc(size_t byte_count) {
  size_t page = regions_page_size();
  size_t rounded = (byte_count + page - 1) & ~(page - 1);
  if (rounded < byte_count) {
    errno = ENOMEM;
    return NULL;
  }
  return memalign(page, rounded == 0 ? page : rounded);
}

size_t malloc_usable_size(void *pointer) {
  if (pointer == NULL) return 0;
  if (in_bootstrap(pointer)) return 0;
  ENSURE_NEXT();
  if (spans_exist()) {
    long size = route_usable_size(pointer);
    if (size >= 0) return (size_t)size;
  }
  return next_usable_size(pointer);
bootstrap_path:
  return 0;
}

void *realloc(void *pointer, size_t byte_count) {
  if (pointer == NULL) return malloc(byte_count);
  if (byte_count == 0) {
    free(pointer);
    return NULL;
  }
  ENSURE_NEXT();
  if (in_bootstrap(pointer)) {
    void *moved = malloc(byte_count);
    if (moved != NULL) memcpy(moved, pointer, byte_count);  // bootstrap blocks are tiny
    return moved;
  }
  if (spans_exist() && route_usable_size(pointer) >= 0) {
    bool was_inside = inside_hook;
    inside_hook = true;
    void *result = routes.reallocate(pointer, byte_count);
    inside_hook = was_inside;
    return result;
  }
  // A ground block stays with the ground, wherever the call comes from.
  return next_realloc(pointer, byte_count);
bootstrap_path:
  return NULL;
}

void *reallocarray(void *pointer, size_t count, size_t size) {
  size_t byte_count;
  if (__builtin_mul_overflow(count, size, &byte_count)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(pointer, byte_count);
}

#endif
