#include "tools/wan/wan_capture.h"

#include <atomic>
#include <cstdio>

#include "base/thread_annotations.h"

namespace meridian::wan {

namespace {

Mutex capture_mu;
std::FILE* capture_file MERIDIAN_GUARDED_BY(capture_mu) = nullptr;  // never closed: lives to exit
std::atomic<bool> capturing{false};

}  // namespace

Status TEST_StartCapture(const std::string& path) {
  MutexLock lock(&capture_mu);
  capture_file = std::fopen(path.c_str(), "wb");
  if (capture_file == nullptr) return Unavailable("cannot open " + path);
  capturing.store(true, std::memory_order_release);
  return Status::Ok();
}

void TEST_Capture(std::string_view bytes) {
  if (!capturing.load(std::memory_order_acquire)) return;
  MutexLock lock(&capture_mu);
  std::fwrite(bytes.data(), 1, bytes.size(), capture_file);
  std::fflush(capture_file);  // a test reads the file while the emulator runs
}

}  // namespace meridian::wan
