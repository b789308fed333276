// Test-only: a record of every byte the WAN emulator's proxies carry, so a test can check what
// an eavesdropper on the WAN would see (docs/security.md: a captured write of a known value
// must not contain it with TLS on). Set by `meridian wan --TEST-capture FILE`; off otherwise,
// when TEST_Capture costs one relaxed atomic load.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace meridian::wan {

// Appends everything captured from now on to `path` (created or truncated). Call once, before
// the proxies start. Unavailable when the file cannot be opened.
Status TEST_StartCapture(const std::string& path);
// Appends `bytes` to the capture file, if one is set. Any thread.
void TEST_Capture(std::string_view bytes);

}  // namespace meridian::wan
