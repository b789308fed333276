// Runs the libFuzzer target's body (resp_fuzz.cc) over seeded random and mutated inputs, so "the
// parser never crashes and answers every split of every input as the reference decoder does" is
// checked on every test run. Layout of an input: see resp_fuzz.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/byte_mutator.h"
#include "base/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace meridian {

std::string RespFuzzOne(std::string_view bytes, size_t* commands);  // resp_fuzz.cc

namespace {

constexpr int kIterations = 20'000;
constexpr char kInterestingChars[] = "*$\r\n\r\n0123456789-\"'\\x \t\0aAfF";
constexpr std::string_view kInterestingBytes(kInterestingChars, sizeof(kInterestingChars) - 1);

// Flags byte: bit 0 small limits, bit 1 unauthenticated, bits 2-3 feed mode.
std::string Input(uint8_t flags, std::string_view stream) {
  return std::string(1, static_cast<char>(flags)) + std::string(stream);
}

std::vector<std::string> Corpus() {
  using namespace std::string_literals;
  const std::string set = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  const std::vector<std::string> streams = {
      set,
      set + "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n" + set,
      "PING\r\nSET k \"a b\\x41\" 'c\\'d'\r\nGET k\n",
      "*0\r\n*-1\r\n\r\n*1\r\n$0\r\n\r\n",
      "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$20\r\n" + std::string(20, 'v') + "\r\n",
      "*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$4\r\npass\r\n",
      "HELLO 3\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
      "*1\r\n$4\r\nPI\0G\r\nECHO a\0b\r\n"s,
      // Past ForTest()'s limits: an unauthenticated bulk, a long command, a long inline line.
      "*1\r\n$10\r\n0123456789\r\n",
      "*6\r\n" +
          [] {
            std::string bulks;
            for (int i = 0; i < 6; ++i)
              bulks += "$30\r\n" + std::string(30, static_cast<char>('a' + i)) + "\r\n";
            return bulks;
          }(),
      "SET key " + std::string(70, 'x') + "\r\n",
  };
  std::vector<std::string> corpus;
  for (uint8_t flags = 0; flags < 16; ++flags) {
    for (const std::string& stream : streams)
      corpus.push_back(Input(flags, stream));
  }
  return corpus;
}

TEST(RespFuzzTest, RandomAndMutatedInputsAgreeWithTheReference) {
  const std::vector<std::string> corpus = Corpus();
  Random rng(20240917);
  std::map<std::string, int> outcomes;
  int commands_total = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string input;
    if (rng.Chance(0.1)) {
      const size_t size = rng.Uniform(256);
      for (size_t j = 0; j < size; ++j)
        input += RandomByte(rng, kInterestingBytes);
    } else {
      input = corpus[rng.Uniform(corpus.size())];
      const uint64_t edits = 1 + rng.Uniform(3);
      for (uint64_t e = 0; e < edits; ++e)
        MutateBytes(rng, kInterestingBytes, input);
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    size_t commands = 0;
    const std::string outcome = RespFuzzOne(input, &commands);
    ++outcomes[outcome.empty() ? "need more" : outcome];
    commands_total += static_cast<int>(commands);
  }
  // Mutations must not only produce garbage: every error is reached, and commands often.
  for (const char* outcome : {
           "need more",
           "ERR Protocol error: invalid multibulk length",
           "ERR Protocol error: invalid bulk length",
           "ERR Protocol error: unauthenticated multibulk length",
           "ERR Protocol error: unauthenticated bulk length",
           "ERR Protocol error: unbalanced quotes in request",
           "ERR Protocol error: too big inline request",
           "ERR Protocol error: bulk string not terminated by CRLF",
           "ERR Protocol error: too big multibulk request",
       }) {
    EXPECT_GT(outcomes[outcome], 0) << outcome;
  }
  int expected_dollar = 0;
  for (const auto& [outcome, count] : outcomes) {
    if (outcome.starts_with("ERR Protocol error: expected '$', got '")) expected_dollar += count;
  }
  EXPECT_GT(expected_dollar, 0);
  EXPECT_GT(commands_total, kIterations / 2);
}

TEST(RespFuzzTest, PathologicalInputs) {
  for (uint8_t flags = 0; flags < 16; ++flags) {
    size_t commands = 0;
    RespFuzzOne(Input(flags, std::string(70'000, 'a')), &commands);
    RespFuzzOne(Input(flags, std::string(70'000, '"') + "\n"), &commands);
    RespFuzzOne(Input(flags, "*1\r\n$536870912\r\n" + std::string(1000, 'v')), &commands);
    RespFuzzOne(Input(flags, "*1048576\r\n" + std::string(1000, '$')), &commands);
    std::string many_empty_bulks = "*5000\r\n";
    for (int i = 0; i < 5000; ++i)
      many_empty_bulks += "$0\r\n\r\n";
    RespFuzzOne(Input(flags, many_empty_bulks), &commands);
    // Only the default limits for an authenticated client take 5000 arguments.
    EXPECT_EQ(commands, (flags & 3) == 0 ? 1u : 0u);
  }
}

}  // namespace
}  // namespace meridian
