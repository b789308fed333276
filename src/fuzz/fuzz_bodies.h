// The bodies of the libFuzzer targets in this folder. Each takes any bytes and must return
// normally: a crash, sanitizer report or MERIDIAN_ASSERT failure is the finding. One executable
// per body (fuzz_entry.cc, under clang); fuzz_test runs them all over seeded random inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace meridian::fuzz {

// What one input did, so the tests can see that their inputs reach both outcomes (a harness
// whose messages were all refused, or all accepted, would prove little).
struct FuzzOutcome {
  uint64_t accepted = 0;  // remote ops applied, requests answered, tokens decoded
  uint64_t refused = 0;   // messages counted malformed, tokens refused
};

FuzzOutcome RunReplicaFuzz(const uint8_t* data, size_t size);       // replica_fuzz.cc
FuzzOutcome RunStrongFuzz(const uint8_t* data, size_t size);        // strong_fuzz.cc
FuzzOutcome RunSessionTokenFuzz(const uint8_t* data, size_t size);  // session_token_fuzz.cc

// Seed inputs built from real traffic (fuzz_test writes them to fuzz/corpus/ on request).
std::vector<std::string> ReplicaSeeds();  // fuzz_seeds.cc
std::vector<std::string> StrongSeeds();

}  // namespace meridian::fuzz
