#include "crdt/or_set.h"

#include <set>

#include "base/assert.h"
#include "clock/clock_codec.h"
#include "crdt/dot_kernel.h"

namespace meridian {
namespace {

Dot Self(Dot d) {
  return d;
}

// Invariants 2 and 3 for one element's dots.
void AssertEntry(const std::vector<Dot>& dots, const VersionVector& context) {
  MERIDIAN_ASSERT(!dots.empty());
  MERIDIAN_ASSERT(dot_kernel::StrictlyAscending(dots));
  MERIDIAN_ASSERT(dot_kernel::AllCovered(dots, context));
}

// An add's dot is covered (a duplicate) or its origin's next one (causal delivery, no holes).
void AssertAddDeliverable(const OrSetOp& op, const VersionVector& context) {
  MERIDIAN_ASSERT(op.dot.seq >= 1 && op.dot.origin < kMaxRegions);
  MERIDIAN_ASSERT(op.dot.seq <= context.Get(op.dot.origin) + 1);
}

}  // namespace

OrSetOp OrSet::PrepareAdd(const std::string& element, RegionId origin) const {
  OrSetOp op = PrepareRemove(element);
  op.is_add = true;
  op.dot = dot_kernel::NextDot(context_, origin);
  return op;
}

OrSetOp OrSet::PrepareRemove(const std::string& element) const {
  OrSetOp op;
  op.element = element;
  auto it = entries_.find(element);
  if (it != entries_.end()) op.observed = it->second;
  return op;
}

std::vector<OrSetOp> OrSet::PrepareRemoveAll() const {
  std::vector<OrSetOp> ops;
  ops.reserve(entries_.size());
  for (const auto& [element, dots] : entries_)
    ops.push_back(OrSetOp{element, false, Dot{}, dots});
  return ops;
}

bool OrSet::Apply(const OrSetOp& op) {
  if (op.is_add) {
    AssertAddDeliverable(op, context_);
    if (context_.Covers(op.dot)) return false;  // a duplicate: already added (and maybe removed)
  } else {
    MERIDIAN_ASSERT(op.dot == Dot{});
  }
  MERIDIAN_ASSERT(dot_kernel::AllCovered(op.observed, context_));
  bool changed = false;
  auto it = entries_.find(op.element);
  if (it != entries_.end()) {
    changed = dot_kernel::EraseObserved(it->second, op.observed, Self) > 0;
    if (it->second.empty()) entries_.erase(it);
  }
  if (op.is_add) {
    context_.Advance(op.dot);
    std::vector<Dot>& dots = entries_[op.element];
    dots.insert(std::upper_bound(dots.begin(), dots.end(), op.dot), op.dot);
    changed = true;
  }
  if (auto found = entries_.find(op.element); found != entries_.end()) {
    AssertEntry(found->second, context_);
  }
  return changed;
}

Status OrSet::CheckApplicable(const std::vector<OrSetOp>& ops) const {
  VersionVector context = context_;  // as Apply would advance it, op by op
  for (const OrSetOp& op : ops) {
    if (op.is_add) {
      if (op.dot.seq < 1 || op.dot.origin >= kMaxRegions) return InvalidArgument("or-set: bad dot");
      if (op.dot.seq > context.Get(op.dot.origin) + 1) {
        return InvalidArgument("or-set: add dot skips its origin's previous one");
      }
    } else if (op.dot != Dot{}) {
      return InvalidArgument("or-set: remove carries a dot");
    }
    if (!dot_kernel::AllCovered(op.observed, context)) {
      return InvalidArgument("or-set: observes a dot not delivered here");
    }
    if (op.is_add && !context.Covers(op.dot)) context.Advance(op.dot);
  }
  return Status::Ok();
}

void OrSet::Merge(const OrSet& other) {
  static const std::vector<Dot> kNone;
  std::map<std::string, std::vector<Dot>> joined;
  auto ia = entries_.begin();
  auto ib = other.entries_.begin();
  while (ia != entries_.end() || ib != other.entries_.end()) {
    const bool take_a =
        ib == other.entries_.end() || (ia != entries_.end() && ia->first <= ib->first);
    const bool take_b =
        ia == entries_.end() || (ib != other.entries_.end() && ib->first <= ia->first);
    const std::string& element = take_a ? ia->first : ib->first;
    std::vector<Dot> dots;
    dot_kernel::Join(take_a ? ia->second : kNone, context_, take_b ? ib->second : kNone,
                     other.context_, Self, [&](Dot d) { dots.push_back(d); });
    if (!dots.empty()) joined.emplace_hint(joined.end(), element, std::move(dots));
    if (take_a) ++ia;
    if (take_b) ++ib;
  }
  entries_ = std::move(joined);
  context_.Merge(other.context_);
  for (const auto& [element, dots] : entries_)
    AssertEntry(dots, context_);
}

std::vector<std::string> OrSet::Elements() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [element, dots] : entries_)
    out.push_back(element);
  return out;
}

void OrSet::Encode(pb::OrSet* out) const {
  out->Clear();
  for (const auto& [element, dots] : entries_) {
    AssertEntry(dots, context_);
    pb::OrSet::Entry* entry = out->add_entries();
    entry->set_element(element);
    dot_kernel::EncodeDots(dots, entry->mutable_dots());
  }
  meridian::Encode(context_, out->mutable_context());
}

Result<OrSet> OrSet::Decode(const pb::OrSet& in) {
  OrSet set;
  auto context = dot_kernel::DecodeContext(in.has_context(), in.context(), "or-set");
  if (!context.ok()) return context.status();
  set.context_ = *context;
  std::set<Dot> seen;
  for (int i = 0; i < in.entries_size(); ++i) {
    const pb::OrSet::Entry& entry = in.entries(i);
    const std::string what = "or-set entry " + std::to_string(i);
    if (i > 0 && !(in.entries(i - 1).element() < entry.element())) {
      return InvalidArgument(what + ": elements not strictly ascending");
    }
    auto dots = dot_kernel::DecodeDots(entry.dots(), what);
    if (!dots.ok()) return dots.status();
    if (dots->empty()) return InvalidArgument(what + ": element without dots");
    for (Dot d : *dots) {
      if (!set.context_.Covers(d)) {
        return InvalidArgument(what + ": dot " + d.ToString() + " not covered by the context");
      }
      if (!seen.insert(d).second) {
        return InvalidArgument(what + ": dot " + d.ToString() + " also names another element");
      }
    }
    set.entries_.emplace_hint(set.entries_.end(), entry.element(), std::move(dots).value());
  }
  return set;
}

}  // namespace meridian
