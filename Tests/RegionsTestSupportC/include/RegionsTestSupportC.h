// Sanitizer settings for the test binary. Nothing to call: linking it is enough.
#ifndef REGIONS_TEST_SUPPORT_C_H
#define REGIONS_TEST_SUPPORT_C_H
int regions_test_support_linked(void);
#endif
