// MERIDIAN_ASSERT: an invariant check that stays on in release builds.
//
// A failed assertion is a bug, not an expected failure: it prints the condition and location to
// stderr and aborts, so a broken invariant stops the process loudly instead of corrupting data.
// Expected failures (bad input, I/O) are Status values, never assertions.
#pragma once

namespace meridian::detail {
[[noreturn]] void AssertFail(const char* condition, const char* file, int line, const char* msg);
}  // namespace meridian::detail

#define MERIDIAN_ASSERT(cond)                                        \
  do {                                                               \
    if (!(cond)) [[unlikely]]                                        \
      ::meridian::detail::AssertFail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define MERIDIAN_ASSERT_MSG(cond, msg)                                \
  do {                                                                \
    if (!(cond)) [[unlikely]]                                         \
      ::meridian::detail::AssertFail(#cond, __FILE__, __LINE__, msg); \
  } while (0)
