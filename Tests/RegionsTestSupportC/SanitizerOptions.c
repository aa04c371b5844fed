// Under ASan and TSan their allocator is the ground (the hook compiles out). The tests expect
// malloc's contract from it: an impossible request returns NULL, which layers pass up as nil,
// instead of aborting. And the suite leaks on purpose (the leak-report tests), so
// LeakSanitizer is off; ASAN_OPTIONS=detect_leaks=1 in the environment turns it back on.
#include "RegionsTestSupportC.h"

const char *__asan_default_options(void) {
  return "allocator_may_return_null=1:detect_leaks=0";
}

const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

int regions_test_support_linked(void) { return 1; }
