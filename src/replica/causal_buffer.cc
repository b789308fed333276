#include "replica/causal_buffer.h"

namespace meridian {

bool CausalBuffer::IsReady(const Op& op, const VersionVector& applied) {
  if (applied.Get(op.dot.origin) + 1 != op.dot.seq) return false;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (r != op.dot.origin && applied.Get(r) < op.deps.Get(r)) return false;
  }
  return true;
}

bool CausalBuffer::Hold(Op op) {
  if (held_.size() >= capacity_ || held_.count(op.dot) > 0) return false;
  const Dot dot = op.dot;
  held_.emplace(dot, std::move(op));
  return true;
}

std::optional<Op> CausalBuffer::TakeReady(const VersionVector& applied) {
  for (auto it = held_.begin(); it != held_.end();) {
    if (applied.Covers(it->first)) {
      it = held_.erase(it);
      continue;
    }
    if (IsReady(it->second, applied)) {
      Op op = std::move(it->second);
      held_.erase(it);
      return op;
    }
    // Later ops of the same origin cannot be ready before this one: skip to the next origin.
    it = held_.lower_bound(Dot{it->first.origin + 1, 0});
  }
  return std::nullopt;
}

}  // namespace meridian
