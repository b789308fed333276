// Seed inputs for replica_fuzz and strong_fuzz made from real traffic: what peers running the
// real code send to region 0, framed in the raw layout of each target (replica_fuzz.cc,
// strong_fuzz.cc), plus a few structured-flavour inputs. Deterministic: the same seeds every run.
#include <deque>
#include <string>
#include <vector>

#include "base/random.h"
#include "fuzz/fuzz_bodies.h"
#include "replica/replica.h"
#include "strong/strong_node.h"

namespace meridian::fuzz {
namespace {

constexpr char kMessageEvent = 4;  // event byte % 8 >= 4: a peer message
constexpr char kTickEvent = 0;

void AppendFrame(std::string* input, RegionId from, const std::string& bytes) {
  input->push_back(kMessageEvent);
  input->push_back(static_cast<char>(from));
  input->push_back(static_cast<char>(bytes.size() & 0xff));
  input->push_back(static_cast<char>((bytes.size() >> 8) & 0xff));
  input->append(bytes.substr(0, 0xffff));
}

std::vector<std::string> RandomStructured(uint64_t seed, size_t count) {
  Random rng(seed);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string input(1, static_cast<char>(1 | (rng.Uniform(8) << 1)));  // structured flavour
    const size_t size = 64 + rng.Uniform(400);
    for (size_t j = 0; j < size; ++j)
      input.push_back(static_cast<char>(rng.Uniform(256)));
    out.push_back(std::move(input));
  }
  return out;
}

ClientWrite SeedWrite(int i) {
  const std::string key = std::string(1, "kctr"[i % 4]);
  switch (i % 5) {
    case 0:
      return {{DataClass::kProfile, key}, "", LwwMapOp{false, {{"f", "v" + std::to_string(i)}}}};
    case 1:
      return {{DataClass::kCounter, key}, i % 2 ? "idem" : "", int64_t{i + 1}};
    case 2:
      return {{DataClass::kTags, key}, "", TagsWrite{{"a", "b"}, {}}};
    case 3:
      return {{DataClass::kRegister, key}, "", std::string("v")};
    default:
      return {{DataClass::kTags, key}, "", KeyDelete{}};
  }
}

}  // namespace

std::vector<std::string> ReplicaSeeds() {
  std::vector<std::string> seeds;
  for (int topology = 0; topology < 3; ++topology) {
    for (int writes = 1; writes <= 12; writes += 4) {
      ReplicaOptions o;
      o.self = 1;
      o.region_count = 3;
      o.topology = static_cast<Topology>(topology);
      o.ack_interval_ticks = 2;
      o.anti_entropy_interval_ticks = 5;
      Replica peer(o);
      std::string input(1, static_cast<char>(topology << 1));  // raw flavour
      uint64_t now = 1'000'000;
      for (int i = 0; i < writes; ++i) {
        Output out;
        (void)peer.OnClientWrite(SeedWrite(i), now, &out);
        peer.Tick(now += 10, &out);
        for (const auto& [to, m] : out.messages) {
          if (to == 0) AppendFrame(&input, 1, m.SerializeAsString());
        }
        if (i % 3 == 2) input.push_back(kTickEvent);
      }
      for (int t = 0; t < 6; ++t) {  // acks, summaries
        Output out;
        peer.Tick(now += 10, &out);
        for (const auto& [to, m] : out.messages) {
          if (to == 0) AppendFrame(&input, 1, m.SerializeAsString());
        }
      }
      seeds.push_back(std::move(input));
    }
  }
  for (auto& s : RandomStructured(7, 8))
    seeds.push_back(std::move(s));
  return seeds;
}

std::vector<std::string> StrongSeeds() {
  std::vector<std::string> seeds;
  for (int mode = 0; mode < 2; ++mode) {
    for (int requests = 1; requests <= 4; ++requests) {
      std::vector<std::unique_ptr<StrongNode>> nodes;
      for (RegionId r = 0; r < 3; ++r) {
        StrongOptions o;
        o.self = r;
        o.region_count = 3;
        o.mode = mode ? HandleMode::kOwner : HandleMode::kConsensus;
        nodes.push_back(std::make_unique<StrongNode>(o));
      }
      std::string input(1, static_cast<char>(mode << 1));  // raw flavour
      std::deque<std::pair<RegionId, std::pair<RegionId, pb::StrongMessage>>> wire;
      auto collect = [&wire](RegionId from, StrongOutput& out) {
        for (auto& [to, m] : out.messages)
          wire.push_back({from, {to, std::move(m)}});
      };
      for (int i = 0; i < requests; ++i) {
        const RegionId at = static_cast<RegionId>(1 + i % 2);
        StrongOutput out;
        HandleRequest request{static_cast<HandleOpKind>(1 + i % 3), i % 2 ? "alice" : "bob",
                              i % 3 == 2 ? "" : "owner-1"};
        (void)nodes[at]->OnClientRequest(static_cast<uint64_t>(i + 1), request, 1000, &out);
        collect(at, out);
      }
      for (size_t step = 0; step < 200 && !wire.empty(); ++step) {
        auto [from, addressed] = std::move(wire.front());
        wire.pop_front();
        auto& [to, m] = addressed;
        if (to == 0) AppendFrame(&input, from, m.SerializeAsString());
        StrongOutput out;
        nodes[to]->OnMessage(from, m, &out);
        collect(to, out);
      }
      seeds.push_back(std::move(input));
    }
  }
  for (auto& s : RandomStructured(11, 8))
    seeds.push_back(std::move(s));
  return seeds;
}

}  // namespace meridian::fuzz
