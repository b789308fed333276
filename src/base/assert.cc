#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace meridian::detail {

void AssertFail(const char* condition, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "MERIDIAN_ASSERT failed: %s at %s:%d %s\n", condition, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace meridian::detail
