// libFuzzer's entry point for one body of fuzz_bodies.h, named by MERIDIAN_FUZZ_BODY at compile
// time (CMakeLists.txt): one small file instead of an entry point in every body, which would
// clash when fuzz_test links them all.
#include "fuzz/fuzz_bodies.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)meridian::fuzz::MERIDIAN_FUZZ_BODY(data, size);
  return 0;
}
