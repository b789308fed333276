// Test-only: a few simulated regions that write, exchange ops in causal order and merge states,
// driven by a rapidcheck-generated script, so that the CRDT property tests run on reachable
// states rather than arbitrary junk.
//
// A Model says what one CRDT's ops are:
//   using State, Op;  explicit Model(size_t regions);
//   std::optional<Op> Make(const State&, RegionId origin, Dot dot, uint8_t a, uint8_t b);
//   void Apply(State&, const Op&);            // op-based apply, at origin or on delivery
//   void Delivered(RegionId at, const Op&);   // optional bookkeeping (e.g. the HLC)
//   void Synced(RegionId at, const State&);   // optional, after a state merge at `at`
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/assert.h"
#include "clock/version_vector.h"
#include "crdt/bounded_counter.h"
#include "crdt/lww_map.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"

namespace meridian::crdt_testing {

// One scripted step: (kind, region, a, b); `a` and `b` parameterise it.
using Step = std::tuple<uint8_t, uint8_t, uint8_t, uint8_t>;
using Script = std::vector<Step>;

template <typename Model>
class Sim {
 public:
  using State = typename Model::State;
  using Op = typename Model::Op;
  struct Logged {
    Dot dot;             // replica-level identity: (origin, origin's op count)
    VersionVector deps;  // what the origin had applied, this op included
    Op op;
  };

  // REQUIRES: 1 <= regions <= kMaxRegions.
  explicit Sim(size_t regions, bool collect_garbage = false)
      : model_(regions), states_(regions), applied_(regions), collect_garbage_(collect_garbage) {
    MERIDIAN_ASSERT(regions >= 1 && regions <= kMaxRegions);
  }

  void Run(const Script& script) {
    for (const auto& [kind, region, a, b] : script)
      Do(kind, region % states_.size(), a, b);
    for (const State& s : states_)
      snapshots_.push_back(s);
  }

  // Delivers to `r` every op it has not applied yet, in log order (a causal order).
  void CatchUp(RegionId r) {
    for (const Logged& op : log_) {
      if (!applied_[r].Covers(op.dot)) DeliverOne(r, op);
    }
  }

  // One fresh replica applying every op in log order.
  State Reference() const {
    Model model(states_.size());
    State s;
    for (const Logged& op : log_)
      model.Apply(s, op.op);
    return s;
  }

  State MergeAll() const {
    State s;
    for (const State& each : states_)
      s.Merge(each);
    return s;
  }

  // The ops that are causally stable now: applied everywhere, and so is every op not after them.
  VersionVector Stable() const {
    VersionVector everywhere = applied_[0];
    for (const VersionVector& v : applied_)
      everywhere = VersionVector::Min(everywhere, v);
    VersionVector stable;
    for (const Logged& d : log_) {
      if (!everywhere.Covers(d.dot) || stable.Get(d.dot.origin) + 1 != d.dot.seq) continue;
      bool concurrent_all_applied = true;
      for (const Logged& e : log_) {
        if (!e.deps.Covers(d.dot) && !everywhere.Covers(e.dot)) concurrent_all_applied = false;
      }
      if (concurrent_all_applied) stable.Advance(d.dot);
    }
    return stable;
  }

  Model& model() { return model_; }
  const std::vector<State>& states() const { return states_; }
  std::vector<State>& mutable_states() { return states_; }
  // Every region's state after every step that touched it, and the final states.
  const std::vector<State>& snapshots() const { return snapshots_; }
  const std::vector<Logged>& log() const { return log_; }

 private:
  void Do(uint8_t kind, RegionId r, uint8_t a, uint8_t b) {
    switch (kind % 8) {
      case 0:
      case 1:
      case 2:
        Local(r, a, b);
        break;
      case 3:
      case 4:
        Deliver(r, a);
        break;
      case 5:
        Sync(r, b % states_.size());
        break;
      case 6:
        Local(r, a, b);
        Deliver(r, b);
        break;
      default:
        if (collect_garbage_)
          Collect(r);
        else
          Sync(r, a % states_.size());
        break;
    }
    snapshots_.push_back(states_[r]);
  }

  void Local(RegionId r, uint8_t a, uint8_t b) {
    const Dot dot{r, applied_[r].Get(r) + 1};
    std::optional<Op> op = model_.Make(states_[r], r, dot, a, b);
    if (!op.has_value()) return;
    model_.Apply(states_[r], *op);
    applied_[r].Advance(dot);
    log_.push_back(Logged{dot, applied_[r], *op});
  }

  bool Deliverable(RegionId r, const Logged& op) const {
    if (applied_[r].Covers(op.dot)) return false;
    VersionVector before = applied_[r];
    before.Advance(Dot{op.dot.origin, before.Get(op.dot.origin) + 1});
    return before.Get(op.dot.origin) == op.dot.seq && before.Dominates(op.deps);
  }

  // Delivers the (choice)th deliverable op, so regions see different interleavings.
  void Deliver(RegionId r, uint8_t choice) {
    std::vector<const Logged*> ready;
    for (const Logged& op : log_) {
      if (Deliverable(r, op)) ready.push_back(&op);
    }
    if (!ready.empty()) DeliverOne(r, *ready[choice % ready.size()]);
  }

  void DeliverOne(RegionId r, const Logged& op) {
    MERIDIAN_ASSERT(Deliverable(r, op));
    model_.Apply(states_[r], op.op);
    if constexpr (requires { model_.Delivered(r, op.op); }) model_.Delivered(r, op.op);
    applied_[r].Advance(op.dot);
  }

  // State transfer q -> r: r now holds (and will skip) everything q applied.
  void Sync(RegionId r, RegionId q) {
    states_[r].Merge(states_[q]);
    applied_[r].Merge(applied_[q]);
    if constexpr (requires { model_.Synced(r, states_[r]); }) model_.Synced(r, states_[r]);
  }

  void Collect(RegionId r) {
    if constexpr (requires { states_[r].CollectGarbage(VersionVector{}, VersionVector{}); }) {
      (void)states_[r].CollectGarbage(Stable(), applied_[r]);
    }
  }

  Model model_;
  std::vector<State> states_;
  std::vector<VersionVector> applied_;
  std::vector<Logged> log_;
  std::vector<State> snapshots_;
  bool collect_garbage_;
};

template <typename State>
struct ProtoOf;
template <>
struct ProtoOf<LwwMap> {
  using type = pb::LwwMap;
};
template <>
struct ProtoOf<PnCounter> {
  using type = pb::PnCounter;
};
template <>
struct ProtoOf<OrSet> {
  using type = pb::OrSet;
};
template <>
struct ProtoOf<MvRegister> {
  using type = pb::MvRegister;
};
template <>
struct ProtoOf<BoundedCounter> {
  using type = pb::BoundedCounter;
};

template <typename State>
std::string Bytes(const State& s) {
  typename ProtoOf<State>::type encoded;
  s.Encode(&encoded);
  std::string out;
  MERIDIAN_ASSERT(encoded.SerializeToString(&out));
  return out;
}

template <typename State>
State Merged(State a, const State& b) {
  a.Merge(b);
  return a;
}

// Merge laws on three states picked from the run's snapshots.
template <typename Model>
void CheckMergeLaws(const Sim<Model>& sim) {
  using State = typename Model::State;
  const auto& pool = sim.snapshots();
  const auto pick = [&] { return pool[*rc::gen::inRange<size_t>(0, pool.size())]; };
  const State a = pick(), b = pick(), c = pick();
  RC_ASSERT(Merged(a, b) == Merged(b, a));                        // commutative
  RC_ASSERT(Merged(Merged(a, b), c) == Merged(a, Merged(b, c)));  // associative
  RC_ASSERT(Merged(a, a) == a);                                   // idempotent
  RC_ASSERT(Merged(Merged(a, b), b) == Merged(a, b));             // absorbs what it has
  // Canonical encoding: equal states reached by different merge orders encode to equal bytes.
  RC_ASSERT(Bytes(Merged(a, b)) == Bytes(Merged(b, a)));
}

// Every snapshot decodes from its own bytes to an equal state, which re-encodes identically.
template <typename Model>
void CheckStateCodec(const Sim<Model>& sim) {
  using State = typename Model::State;
  for (const State& s : sim.snapshots()) {
    const std::string bytes = Bytes(s);
    typename ProtoOf<State>::type parsed;
    RC_ASSERT(parsed.ParseFromString(bytes));
    auto decoded = State::Decode(parsed);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == s);
    RC_ASSERT(Bytes(*decoded) == bytes);
  }
}

// Op-based delivery, state merges, and one replica applying everything all agree.
template <typename Model>
void CheckOpsAndMergeConverge(Sim<Model>& sim) {
  using State = typename Model::State;
  const State reference = sim.Reference();
  RC_ASSERT(sim.MergeAll() == reference);
  for (RegionId r = 0; r < sim.states().size(); ++r) {
    sim.CatchUp(r);
    RC_ASSERT(sim.states()[r] == reference);
  }
}

inline size_t RegionCount(uint8_t choice) {
  return 2 + choice % 2;
}

}  // namespace meridian::crdt_testing
