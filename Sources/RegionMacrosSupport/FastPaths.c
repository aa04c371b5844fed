// The entries at the head of a region's core that the interposer jumps to (see
// regions_fast_paths): the stack's closures themselves when they have no context, otherwise
// these functions, which pass the closure its context.
#include "RegionMacrosSupport.h"

// The entries for closures with a context (an unspecialized stack's): they pass it on.
__attribute__((swiftcall)) static void *serve_with_context(void *core, size_t byte_count,
                                                           regions_thread_t *thread) {
  regions_fast_paths *paths = regions_core_fast_paths(core);
  return paths->serve(core, byte_count, thread, paths->serve_context);
}

__attribute__((swiftcall)) static void free_with_context(void *core, void *pointer, void *span,
                                                         regions_thread_t *thread) {
  regions_fast_paths *paths = regions_core_fast_paths(core);
  paths->free(core, pointer, span, thread, paths->free_context);
}

regions_fast_paths regions_fast_paths_make(regions_serve_function serve, void *serve_context,
                                           regions_free_function free, void *free_context) {
  regions_fast_paths paths = {
      .serve_entry =
          serve_context == NULL ? (regions_serve_function_alone)serve : serve_with_context,
      .free_entry = free_context == NULL ? (regions_free_function_alone)free : free_with_context,
      .serve = serve,
      .serve_context = serve_context,
      .free = free,
      .free_context = free_context,
  };
  return paths;
}
