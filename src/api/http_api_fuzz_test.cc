// Runs the libFuzzer target's body (http_api_fuzz.cc) over seeded random and mutated requests, so
// "ParseApiRequest never crashes, never throws, accepts only valid writes" is checked on every
// test run. Layout of an input: see http_api_fuzz.cc.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/http_api.h"
#include "api/session_token.h"
#include "base/byte_mutator.h"
#include "base/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace meridian {

HttpRequest FuzzRequestFromBytes(std::string_view bytes);  // http_api_fuzz.cc

namespace {

constexpr int kIterations = 20'000;
constexpr std::string_view kInterestingBytes = "/%?&=\n{}[]\":,\\ null0123456789afAF-_.+";

void Feed(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Method byte: 0 GET, 1 PUT, 2 POST, 3 DELETE, 4 HEAD, 5 PATCH.
std::string Input(char method, std::string_view rest) {
  return std::string(1, method) + std::string(rest);
}

std::vector<std::string> Corpus() {
  VersionVector vv;
  vv.Set(0, 3);
  vv.Set(2, 9);
  const std::string token = EncodeSessionToken(vv);
  return {
      Input(0, "/profile/alice\nconsistency=quorum\n\n" + token + "\n"),
      Input(1,
            "/profile/alice\n\nretry-1\n\n"
            R"({"name":"Alice","bio":null})"),
      Input(1,
            "/profile/al%C3%A9\nmode=blob\n\n\n"
            R"({"name":"A\u00e9"})"),
      Input(3, "/profile/alice\n\n\n\n"),
      Input(2, "/counter/likes/incr\nby=5\nk\n\n"),
      Input(2, "/counter/likes/decr\n\n\n\n"),
      Input(0, "/counter/likes\n\n\n\n"),
      Input(2,
            "/tags/t1\n\n\n\n"
            R"({"add":["a","b"],"remove":["c"]})"),
      Input(3, "/tags/t1/a%20b\n\n\n\n"),
      Input(1,
            "/register/r\n\n\n\n"
            R"({"value":"v1"})"),
      Input(0, "/register/r\n\n\n" + token),
      Input(0, "/conflicts\nlimit=10\n\n\n"),
      Input(0, "/metrics\n\n\n\n"),
      Input(0, "/healthz\n\n\n\n"),
  };
}

void Mutate(Random& rng, std::string& text) {
  MutateBytes(rng, kInterestingBytes, text);
}

// A short name for each kind of outcome, to see that the inputs reach all of them.
std::string Outcome(const ApiCommand& command) {
  if (const auto* error = std::get_if<ApiError>(&command))
    return std::to_string(error->http_status);
  if (std::holds_alternative<WriteCommand>(command)) return "write";
  if (std::holds_alternative<ReadCommand>(command)) return "read";
  return "admin";
}

TEST(HttpApiFuzzTest, RandomAndMutatedRequestsNeverCrash) {
  const std::vector<std::string> corpus = Corpus();
  Random rng(20240612);
  std::map<std::string, int> outcomes;
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
        Mutate(rng, input);
    }
    Feed(input);
    ++outcomes[Outcome(ParseApiRequest(FuzzRequestFromBytes(input), ApiOptions{3, ""}))];
  }
  // Mutations must not only produce garbage: every outcome is reached, accepted ones often
  // (413 needs a megabyte, which PathologicalRequestsAreRefused sends).
  for (const char* outcome : {"write", "read", "admin", "400", "404", "405"}) {
    EXPECT_GT(outcomes[outcome], 0) << outcome;
  }
  EXPECT_GT(outcomes["write"] + outcomes["read"], kIterations / 25);
}

TEST(HttpApiFuzzTest, PathologicalRequestsAreRefused) {
  using namespace std::string_literals;
  Feed(Input(2, "/tags/k\n\n\n\n" + std::string(200'000, '[')));      // deep nesting
  Feed(Input(1, "/register/k\n\n\n\n" + std::string(2 << 20, 'a')));  // over the body cap
  Feed(Input(0, "/profile/" + std::string(100'000, 'k')));            // long key
  Feed(Input(1, "/profile/k\n\n\n\n{\"\\ud800\":\"x\"}"));            // lone surrogate
  Feed(Input(1, "/profile/k\n\n\n\n{\"a\":\"\0\"}"s));                // raw NUL in JSON
  Feed(Input(0, "/%ff%fe\n\n\n\n"));
}

}  // namespace
}  // namespace meridian
