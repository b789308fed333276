// Runs the libFuzzer target's body (config_fuzz.cc) over seeded random and mutated inputs, so the
// "ParseClusterConfig never crashes, never throws" property is checked on every test run.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/byte_mutator.h"
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

void Mutate(Random& rng, std::string& text) {
  MutateBytes(rng, kYamlBytes, text);
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
        input += RandomByte(rng, kYamlBytes);
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
