// The whole-process region: opened before `main` when REGIONS_STACK is set.
//
// A constructor of the default priority runs after every constructor with a priority (the
// interposer's starts first, at 101) and after the Swift image registration that precedes it
// in link order (swiftrt.o comes first on every Swift link line), so the Swift code it calls
// finds its types and conformances registered. In a preloaded library it runs after the
// libraries it depends on (libc, the Swift runtime) and before the program's `main`.
#include "RegionMacrosSupport.h"

#include <stdlib.h>

const void *regions_process_binding;

__attribute__((constructor)) static void regions_process_init(void) {
  if (getenv("REGIONS_STACK") != NULL && regions_process_start != NULL) regions_process_start();
}
