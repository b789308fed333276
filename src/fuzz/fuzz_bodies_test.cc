// Runs the libFuzzer bodies of this folder (fuzz_bodies.h) over seeded random and mutated inputs,
// so "a peer message cannot crash a region, nor make it hold ops it may not" and "a session
// token cannot crash the decoder" are checked on every test run, gcc builds included.
//
// MERIDIAN_FUZZ_WRITE_CORPUS=DIR writes the seed inputs to DIR/TARGET/ (how fuzz/corpus/ was
// made: `MERIDIAN_FUZZ_WRITE_CORPUS=fuzz/corpus build/tests/fuzz_test`).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api/session_token.h"
#include "base/byte_mutator.h"
#include "base/random.h"
#include "clock/version_vector.h"
#include "fuzz/fuzz_bodies.h"

namespace meridian::fuzz {
namespace {

using Body = FuzzOutcome (*)(const uint8_t*, size_t);

FuzzOutcome Feed(Body body, const std::string& input) {
  return body(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Seeds as they are, then mutations of them and random inputs; sums what they did.
FuzzOutcome RunMany(Body body, const std::vector<std::string>& seeds, uint64_t seed,
                    int iterations) {
  Random rng(seed);
  FuzzOutcome total;
  auto add = [&total](FuzzOutcome o) {
    total.accepted += o.accepted;
    total.refused += o.refused;
  };
  for (const auto& s : seeds)
    add(Feed(body, s));
  for (int i = 0; i < iterations; ++i) {
    std::string input;
    if (seeds.empty() || rng.Chance(0.2)) {
      const size_t size = rng.Uniform(512);
      for (size_t j = 0; j < size; ++j)
        input.push_back(static_cast<char>(rng.Uniform(256)));
    } else {
      input = seeds[rng.Uniform(seeds.size())];
      const uint64_t edits = 1 + rng.Uniform(4);
      for (uint64_t e = 0; e < edits; ++e)
        MutateBytes(rng, "", input);
    }
    add(Feed(body, input));
  }
  return total;
}

std::vector<std::string> TokenSeeds() {
  VersionVector a, b;
  a.Set(0, 3);
  a.Set(2, 9);
  b.Set(7, 1ULL << 40);
  return {EncodeSessionToken(a),
          EncodeSessionToken(b),
          EncodeSessionToken(VersionVector()),
          "",
          "AAAA",
          "!!",
          std::string(600, 'A')};
}

void WriteCorpus(const std::string& target, const std::vector<std::string>& seeds) {
  const char* dir = std::getenv("MERIDIAN_FUZZ_WRITE_CORPUS");
  if (dir == nullptr) return;
  const auto path = std::filesystem::path(dir) / target;
  std::filesystem::create_directories(path);
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream(path / ("seed-" + std::to_string(i)), std::ios::binary) << seeds[i];
  }
}

TEST(FuzzBodiesTest, ReplicaSurvivesHostilePeers) {
  const auto seeds = ReplicaSeeds();
  WriteCorpus("replica_fuzz", seeds);
  // The seeds alone: real traffic is applied (the harness does not refuse everything).
  FuzzOutcome real;
  for (const auto& s : seeds)
    real.accepted += Feed(RunReplicaFuzz, s).accepted;
  EXPECT_GT(real.accepted, 0u);
  const FuzzOutcome all = RunMany(RunReplicaFuzz, seeds, 20261204, 1500);
  EXPECT_GT(all.refused, 0u);  // and mutations do reach the checks that refuse
}

TEST(FuzzBodiesTest, StrongNodeSurvivesHostilePeers) {
  const auto seeds = StrongSeeds();
  WriteCorpus("strong_fuzz", seeds);
  const FuzzOutcome all = RunMany(RunStrongFuzz, seeds, 20261205, 1500);
  EXPECT_GT(all.accepted, 0u);
  EXPECT_GT(all.refused, 0u);
}

TEST(FuzzBodiesTest, SessionTokensNeverCrashTheDecoder) {
  const auto seeds = TokenSeeds();
  WriteCorpus("session_token_fuzz", seeds);
  const FuzzOutcome all = RunMany(RunSessionTokenFuzz, seeds, 20261206, 20'000);
  EXPECT_GT(all.accepted, 0u);
  EXPECT_GT(all.refused, 0u);
}

}  // namespace
}  // namespace meridian::fuzz
