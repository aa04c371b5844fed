// The Swift runtime's own allocations go to the ground.
//
// Generic metadata, conformance caches, witness tables, lazy globals (swift_once), task
// records and task-local items live as long as the process (or the task), wherever they are
// first needed. Allocated inside a region, they would pin its pages for good and look like
// leaks. So the executable interposes these runtime entry points (as it does malloc): each
// wrapper raises a per-thread depth while the real function runs, and the hook sends every
// allocation made at a depth above zero to the ground.
//
// Every wrapped function takes at most six integer or pointer arguments and returns at most
// two words, so one forwarding shape serves all of them on x86-64 and arm64, whether the
// function uses the C or the Swift calling convention (neither uses the context or error
// registers here).
#define _GNU_SOURCE
#include "RegionMacrosSupport.h"
#include "Interposer.h"

#include <pthread.h>
#include <stdint.h>


#ifndef REGIONS_NO_HOOK

typedef struct {
  uintptr_t first, second;
} regions_two_words;

typedef regions_two_words (*regions_entry)(uintptr_t, uintptr_t, uintptr_t, uintptr_t,
                                           uintptr_t, uintptr_t);

#define REGIONS_GROUND_ENTRY(name)                                                       \
  static void *next_##name;                                                              \
  regions_two_words name(uintptr_t a, uintptr_t b, uintptr_t c, uintptr_t d, uintptr_t e, \
                         uintptr_t f) {                                                  \
    regions_entry next = (regions_entry)regions_next_definition(&next_##name, #name);    \
    regions_thread.runtime_depth++;                                                      \
    regions_two_words result = next(a, b, c, d, e, f);                                   \
    regions_thread.runtime_depth--;                                                      \
    return result;                                                                       \
  }

// Metadata.
REGIONS_GROUND_ENTRY(swift_getGenericMetadata)
REGIONS_GROUND_ENTRY(swift_getCanonicalSpecializedMetadata)
REGIONS_GROUND_ENTRY(swift_getCanonicalPrespecializedGenericMetadata)
REGIONS_GROUND_ENTRY(swift_getSingletonMetadata)
REGIONS_GROUND_ENTRY(swift_getForeignTypeMetadata)
REGIONS_GROUND_ENTRY(swift_getTupleTypeMetadata)
REGIONS_GROUND_ENTRY(swift_getTupleTypeMetadata2)
REGIONS_GROUND_ENTRY(swift_getTupleTypeMetadata3)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadata)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadata0)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadata1)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadata2)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadata3)
REGIONS_GROUND_ENTRY(swift_getFunctionTypeMetadataGlobalActor)
REGIONS_GROUND_ENTRY(swift_getExistentialTypeMetadata)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInContext)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInContext2)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInContextInMetadataState)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInContextInMetadataState2)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInEnvironment)
REGIONS_GROUND_ENTRY(swift_getTypeByMangledNameInEnvironmentInMetadataState)
REGIONS_GROUND_ENTRY(swift_getAssociatedTypeWitness)
REGIONS_GROUND_ENTRY(swift_getAssociatedConformanceWitness)
// Conformances, witness tables and casts (the conformance cache).
REGIONS_GROUND_ENTRY(swift_getWitnessTable)
REGIONS_GROUND_ENTRY(swift_conformsToProtocol)
REGIONS_GROUND_ENTRY(swift_conformsToProtocol2)
REGIONS_GROUND_ENTRY(swift_conformsToProtocolCommon)
REGIONS_GROUND_ENTRY(swift_dynamicCast)
// Key path literals: the runtime instantiates each once and keeps it for the process.
REGIONS_GROUND_ENTRY(swift_getKeyPath)
// Lazy globals: what their initializers allocate lives for the whole process.
REGIONS_GROUND_ENTRY(swift_once)
// Task records and task-local items (the task's own allocations still go to its region).
REGIONS_GROUND_ENTRY(swift_task_create)
REGIONS_GROUND_ENTRY(swift_task_localValuePush)
// A typed throw's hook (the untyped one, swift_willThrow, is below: its own convention).
REGIONS_GROUND_ENTRY(swift_willThrowTypedImpl)

// Throws: the runtime calls the hooks a debugger or a test framework installs (Swift Testing
// records a backtrace per thrown error, in a cache it keeps for the process) from
// swift_willThrow, at every `throw`. Its own calling convention: the Swift context and error
// registers.
typedef void (*regions_will_throw)(void *context __attribute__((swift_context)),
                                   void **error __attribute__((swift_error_result)))
    __attribute__((swiftcall));
static void *next_swift_willThrow;

__attribute__((swiftcall)) void swift_willThrow(void *context __attribute__((swift_context)),
                                                void **error __attribute__((swift_error_result))) {
  regions_will_throw next =
      (regions_will_throw)regions_next_definition(&next_swift_willThrow, "swift_willThrow");
  regions_thread.runtime_depth++;
  next(context, error);
  regions_thread.runtime_depth--;
}

// Threads: the C library allocates a new thread's TLS vector (and the dynamic linker, the TLS
// blocks of libraries loaded later) while creating it, for as long as the thread lives.
typedef int (*regions_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                      void *);
static void *next_pthread_create;

int pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                   void *(*start)(void *), void *argument) {
  regions_pthread_create next =
      (regions_pthread_create)regions_next_definition(&next_pthread_create, "pthread_create");
  regions_thread.runtime_depth++;
  int result = next(thread, attributes, start, argument);
  regions_thread.runtime_depth--;
  return result;
}

#endif
