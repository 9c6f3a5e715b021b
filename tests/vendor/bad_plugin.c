/* Plugins xflowd must refuse (tests/hal/vendor/vendor_plugin_test.cc): built with
 * -DBAD_MAJOR, a table of ABI major 2; with -DNO_ENTRY, no entry symbol at all. */
#include <stddef.h>

#include "xflowd/vendor_abi.h"

#ifdef BAD_MAJOR
static const xfv_plugin kTable = {XFV_ABI_MAJOR + 1,
                                  0,
                                  (uint32_t)sizeof(xfv_plugin),
                                  "from the future",
                                  "2.0",
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL};
__attribute__((visibility("default"))) const xfv_plugin* xflowd_vendor_plugin(void) {
  return &kTable;
}
#endif

#ifdef NO_ENTRY
__attribute__((visibility("default"))) int not_an_xflowd_plugin(void) { return 1; }
#endif
