// C++'s operator new, interposed like malloc.
//
// libstdc++'s operator new calls malloc from inside libstdc++, whose own mallocs go to the
// ground (RuntimeCallers.c): its caller would hide the program's. So operator new reads its
// own caller, and a region serves it as it would that caller's malloc: a C++ program's `new`
// is the program's allocation, the Swift runtime's `new` (from libswiftCore) the runtime's.
// When no region is open, or a region has no memory, the next operator new runs (its
// new-handler, its bad_alloc). operator delete needs nothing: it calls free, which finds the
// block's owner by address.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <dlfcn.h>

#ifndef REGIONS_NO_HOOK

typedef void *(*regions_new)(size_t);
typedef void *(*regions_new_nothrow)(size_t, const void *);

static void *resolve(void **slot, const char *name) {
  void *next = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (__builtin_expect(next == NULL, 0)) {
    next = dlsym(RTLD_NEXT, name);
    __atomic_store_n(slot, next, __ATOMIC_RELAXED);
  }
  return next;
}

#define REGIONS_OPERATOR_NEW(name)                                     \
  static void *next_##name;                                            \
  void *name(size_t byte_count) {                                      \
    REGIONS_CALLER(caller);                                            \
    void *block = regions_interposer_routed_malloc(byte_count, caller); \
    if (block != NULL) return block;                                   \
    return ((regions_new)resolve(&next_##name, #name))(byte_count);    \
  }

#define REGIONS_OPERATOR_NEW_NOTHROW(name)                                              \
  static void *next_##name;                                                             \
  void *name(size_t byte_count, const void *tag) {                                      \
    REGIONS_CALLER(caller);                                                             \
    void *block = regions_interposer_routed_malloc(byte_count, caller);                  \
    if (block != NULL) return block;                                                    \
    return ((regions_new_nothrow)resolve(&next_##name, #name))(byte_count, tag);        \
  }

// operator new(std::size_t) and operator new[](std::size_t).
REGIONS_OPERATOR_NEW(_Znwm)
REGIONS_OPERATOR_NEW(_Znam)
// The std::nothrow_t forms.
REGIONS_OPERATOR_NEW_NOTHROW(_ZnwmRKSt9nothrow_t)
REGIONS_OPERATOR_NEW_NOTHROW(_ZnamRKSt9nothrow_t)

#endif
