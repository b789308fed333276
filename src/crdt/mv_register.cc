#include "crdt/or_set.h"

#include <algorithm>
#include <tuple>

#include "base/assert.h"
#include "clock/clock_codec.h"
#include "crdt/dot_kernel.h"

namespace meridian {
namespace {

using Sibling = std::pair<Dot, MvSibling>;

Dot DotOf(const Sibling& s) {
  return s.first;
}

// A sibling is a valid dot the context covers (see the invariant in or_set.h).
bool IsCovered(Dot dot, const VersionVector& context) {
  return dot.origin < kMaxRegions && dot.seq >= 1 && context.Covers(dot);
}

}  // namespace

std::vector<Dot> MvRegister::SiblingsSeenIn(const VersionVector* seen) const {
  std::vector<Dot> dots;
  for (const auto& [dot, sibling] : values_) {
    if (seen == nullptr || seen->Covers(dot)) dots.push_back(dot);
  }
  return dots;
}

MvOp MvRegister::PrepareWrite(const std::string& value, RegionId origin) const {
  return PrepareWrite(value, origin, nullptr);
}

MvOp MvRegister::PrepareWrite(const std::string& value, RegionId origin,
                              const VersionVector* seen) const {
  MvOp op;
  op.value = value;
  op.dot = dot_kernel::NextDot(context_, origin);
  op.observed = SiblingsSeenIn(seen);
  return op;
}

MvOp MvRegister::PrepareDelete(const VersionVector* seen) const {
  MvOp op;
  op.remove = true;
  op.observed = SiblingsSeenIn(seen);
  return op;
}

Status MvRegister::CheckApplicable(const MvOp& op) const {
  if (!dot_kernel::AllCovered(op.observed, context_)) {
    return InvalidArgument("mv register: observes a dot not delivered here");
  }
  if (op.remove) {
    if (op.dot != Dot{} || !op.value.empty()) return InvalidArgument("mv register: bad delete");
    return Status::Ok();
  }
  if (op.dot.seq < 1 || op.dot.origin >= kMaxRegions)
    return InvalidArgument("mv register: bad dot");
  if (op.dot.seq > context_.Get(op.dot.origin) + 1) {
    return InvalidArgument("mv register: dot skips its origin's previous one");
  }
  // A sibling of the op's origin may survive it: a write made with a client's context observes
  // only what that client saw, even of its own region's writes.
  return Status::Ok();
}

bool MvRegister::Apply(const MvOp& op, WriteStamp stamp) {
  if (op.remove) {
    MERIDIAN_ASSERT(op.dot == Dot{} && op.value.empty());
    MERIDIAN_ASSERT(dot_kernel::AllCovered(op.observed, context_));
    return dot_kernel::EraseObserved(values_, op.observed, DotOf) > 0;
  }
  MERIDIAN_ASSERT(op.dot.seq >= 1 && op.dot.origin < kMaxRegions);
  MERIDIAN_ASSERT(op.dot.seq <= context_.Get(op.dot.origin) + 1);  // causal delivery: no holes
  if (context_.Covers(op.dot)) return false;  // a duplicate, or already overwritten
  MERIDIAN_ASSERT(dot_kernel::AllCovered(op.observed, context_));
  dot_kernel::EraseObserved(values_, op.observed, DotOf);
  context_.Advance(op.dot);
  // Not held yet (the context did not cover it, and every sibling is covered): in dot order.
  const auto at = std::lower_bound(values_.begin(), values_.end(), op.dot,
                                   [](const Sibling& s, Dot dot) { return s.first < dot; });
  values_.insert(at, Sibling{op.dot, MvSibling{op.value, stamp}});
  for (const auto& [dot, value] : values_)
    MERIDIAN_ASSERT(IsCovered(dot, context_));
  return true;
}

void MvRegister::Merge(const MvRegister& other) {
  std::vector<Sibling> joined;
  dot_kernel::Join(values_, context_, other.values_, other.context_, DotOf,
                   [&](const Sibling& s) { joined.push_back(s); });
  values_ = std::move(joined);
  context_.Merge(other.context_);
  for (const auto& [dot, value] : values_)
    MERIDIAN_ASSERT(IsCovered(dot, context_));
}

std::vector<std::string> MvRegister::Values() const {
  std::vector<std::string> out;
  out.reserve(values_.size());
  for (const auto& [dot, sibling] : values_)
    out.push_back(sibling.value);
  return out;
}

std::optional<std::string> MvRegister::Latest() const {
  const Sibling* latest = nullptr;
  for (const Sibling& s : values_) {
    // Stamps are unique per write; the dot only keeps the choice total if a peer reused one.
    if (latest == nullptr ||
        std::tie(s.second.stamp, s.first) > std::tie(latest->second.stamp, latest->first)) {
      latest = &s;
    }
  }
  if (latest == nullptr) return std::nullopt;
  return latest->second.value;
}

void MvRegister::Encode(pb::MvRegister* out) const {
  out->Clear();
  for (const auto& [dot, s] : values_) {
    MERIDIAN_ASSERT(IsCovered(dot, context_));
    pb::MvRegister::Sibling* sibling = out->add_siblings();
    meridian::Encode(dot, sibling->mutable_dot());
    sibling->set_value(s.value);
    meridian::Encode(s.stamp, sibling->mutable_stamp());
  }
  meridian::Encode(context_, out->mutable_context());
}

Result<MvRegister> MvRegister::Decode(const pb::MvRegister& in) {
  MvRegister reg;
  auto context = dot_kernel::DecodeContext(in.has_context(), in.context(), "mv register");
  if (!context.ok()) return context.status();
  reg.context_ = *context;
  for (int i = 0; i < in.siblings_size(); ++i) {
    const pb::MvRegister::Sibling& sibling = in.siblings(i);
    const std::string what = "mv register sibling " + std::to_string(i);
    if (!sibling.has_dot()) return InvalidArgument(what + ": dot missing");
    auto dot = meridian::Decode(sibling.dot());
    if (!dot.ok()) return InvalidArgument(what + ": " + dot.status().message());
    if (!reg.values_.empty() && reg.values_.rbegin()->first >= *dot) {
      return InvalidArgument(what + ": dots not strictly ascending");
    }
    if (!reg.context_.Covers(*dot)) {
      return InvalidArgument(what + ": dot " + dot->ToString() + " not covered by the context");
    }
    // A sibling stored before stamps were kept decodes with the zero stamp: Latest() then
    // prefers any stamped sibling, and the next write replaces it anyway.
    WriteStamp stamp;
    if (sibling.has_stamp()) {
      auto decoded = meridian::Decode(sibling.stamp());
      if (!decoded.ok()) return InvalidArgument(what + ": " + decoded.status().message());
      stamp = *decoded;
    }
    reg.values_.emplace_back(*dot, MvSibling{sibling.value(), stamp});
  }
  return reg;
}

}  // namespace meridian
