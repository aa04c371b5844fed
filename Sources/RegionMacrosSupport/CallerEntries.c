// Entry points that allocate for their caller from inside a library whose own mallocs go to
// the ground (RuntimeCallers.c): C++'s operator new (libstdc++) and strdup / strndup (the C
// library). Their malloc's caller would hide the real one, so each reads its own caller and
// a region serves it as it would that caller's malloc: a C++ program's `new` or a program's
// strdup is the program's allocation, the Swift runtime's `new` or libdispatch's strdup of a
// queue label the runtime's. When no region is open, or a region has no memory, the next
// definition runs (operator new's new-handler and bad_alloc). Freeing needs nothing: delete
// and free find the block's owner by address.
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <string.h>

#ifndef REGIONS_NO_HOOK

typedef void *(*regions_new)(size_t);
typedef void *(*regions_new_nothrow)(size_t, const void *);

#define REGIONS_OPERATOR_NEW(name)                                                  \
  static void *next_##name;                                                         \
  void *name(size_t byte_count) {                                                   \
    REGIONS_CALLER(caller);                                                         \
    void *block = regions_interposer_routed_malloc(byte_count, caller);             \
    if (block != NULL) return block;                                                \
    regions_new next = (regions_new)regions_next_definition(&next_##name, #name);   \
    return next(byte_count);                                                        \
  }

#define REGIONS_OPERATOR_NEW_NOTHROW(name)                                          \
  static void *next_##name;                                                         \
  void *name(size_t byte_count, const void *tag) {                                  \
    REGIONS_CALLER(caller);                                                         \
    void *block = regions_interposer_routed_malloc(byte_count, caller);             \
    if (block != NULL) return block;                                                \
    regions_new_nothrow next =                                                      \
        (regions_new_nothrow)regions_next_definition(&next_##name, #name);          \
    return next(byte_count, tag);                                                   \
  }

// operator new(std::size_t) and operator new[](std::size_t).
REGIONS_OPERATOR_NEW(_Znwm)
REGIONS_OPERATOR_NEW(_Znam)
// The std::nothrow_t forms.
REGIONS_OPERATOR_NEW_NOTHROW(_ZnwmRKSt9nothrow_t)
REGIONS_OPERATOR_NEW_NOTHROW(_ZnamRKSt9nothrow_t)

// strdup and strndup.
static void *next_strdup;
static void *next_strndup;

char *strdup(const char *text) {
  REGIONS_CALLER(caller);
  size_t byte_count = strlen(text) + 1;
  char *copy = regions_interposer_routed_malloc(byte_count, caller);
  if (copy == NULL) {
    char *(*next)(const char *) = regions_next_definition(&next_strdup, "strdup");
    return next(text);
  }
  return memcpy(copy, text, byte_count);
}

char *strndup(const char *text, size_t most) {
  REGIONS_CALLER(caller);
  size_t length = strnlen(text, most);
  char *copy = regions_interposer_routed_malloc(length + 1, caller);
  if (copy == NULL) {
    char *(*next)(const char *, size_t) = regions_next_definition(&next_strndup, "strndup");
    return next(text, most);
  }
  memcpy(copy, text, length);
  copy[length] = 0;
  return copy;
}

#endif
