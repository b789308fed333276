// Runs the libFuzzer target's body (config_fuzz.cc) over seeded random and mutated inputs, so the
// "ParseClusterConfig never crashes, never throws" property is checked on every test run.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace meridian {
namespace {

constexpr int kIterations = 4000;
constexpr std::string_view kYamlBytes = "[]{}:,-?&*!|>'\"#%@` \n\t0123456789abc";

std::string ReadDefaultConfig() {
  std::ifstream in(MERIDIAN_SOURCE_DIR "/deploy/local.yaml");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Feed(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

char RandomByte(Random& rng) {
  if (rng.Chance(0.7)) return kYamlBytes[rng.Uniform(kYamlBytes.size())];
  return static_cast<char>(rng.Uniform(256));
}

// One random edit: flip, insert, delete a range, or duplicate a range.
void Mutate(Random& rng, std::string& text) {
  const size_t at = text.empty() ? 0 : rng.Uniform(text.size());
  const size_t len = 1 + rng.Uniform(16);
  switch (rng.Uniform(4)) {
    case 0:
      if (!text.empty()) text[at] = RandomByte(rng);
      break;
    case 1:
      text.insert(at, 1, RandomByte(rng));
      break;
    case 2:
      text.erase(at, len);
      break;
    default:
      text.insert(at, text.substr(at, len));
      break;
  }
}

TEST(ConfigFuzzTest, RandomAndMutatedInputsNeverCrash) {
  const std::string base = ReadDefaultConfig();
  ASSERT_FALSE(base.empty());
  Random rng(20240611);
  for (int i = 0; i < kIterations; ++i) {
    std::string input;
    if (rng.Chance(0.2)) {
      const size_t size = rng.Uniform(512);
      for (size_t j = 0; j < size; ++j) {
        input += RandomByte(rng);
      }
    } else {
      input = base;
      const uint64_t edits = 1 + rng.Uniform(8);
      for (uint64_t e = 0; e < edits; ++e) {
        Mutate(rng, input);
      }
    }
    Feed(input);
  }
}

TEST(ConfigFuzzTest, PathologicalInputsAreRefused) {
  Feed(std::string(100'000, '['));              // deep nesting: yaml-cpp's depth guard
  Feed(std::string(2 << 20, 'a'));              // over the size cap
  Feed("a: &x [*x]\n");                         // self-referencing alias
  Feed(std::string("regions:\0\xff\xfe", 12));  // embedded NUL and invalid UTF-8
}

}  // namespace
}  // namespace meridian
