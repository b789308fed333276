// TestTempDir: a fresh directory under the system temp dir, removed with everything in it when
// the object goes away. Test-only; real data dirs come from the config.
#pragma once

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <string>
#include <system_error>

#include "base/assert.h"

namespace meridian {

class TestTempDir {
 public:
  TestTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "meridian_store_XXXXXX");
    const char* made = mkdtemp(pattern.data());
    MERIDIAN_ASSERT_MSG(made != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~TestTempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir must not fail a test
    std::filesystem::remove_all(path_, ignored);
  }
  TestTempDir(const TestTempDir&) = delete;
  TestTempDir& operator=(const TestTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace meridian
