// Checker invariant 11: every text key reads as the text its created ops make, recomputed here
// from the clients' edits by position, independently of src/crdt/rga.cc.
//
// The reference re-derives each op from its causal past: the text the origin showed when it made
// the op is the one the ops its deps cover make, so the client's positions translate into the
// same elements there. Its RGA is the textbook tree (each code point hangs after the one it was
// typed after, siblings highest (lamport, origin) first, read depth-first), not the replica's
// stored sequence with its insert rule, so an insert placed by arrival rather than by timestamp
// shows up as a different text.
#include <algorithm>
#include <map>
#include <tuple>

#include "crdt/rga.h"
#include "sim/checker.h"

namespace meridian {
namespace {

using Id = std::tuple<uint64_t, uint32_t, uint32_t>;  // (op serial, edit, code point)

struct Element {
  std::optional<Id> parent;  // nullopt: the head
  uint64_t lamport = 0;
  RegionId origin = 0;
  char32_t code_point = 0;
  bool deleted = false;
};

// One edit as the origin made it: elements to add after `anchor`, or elements to delete.
struct Step {
  bool insert = false;
  Id first;
  std::optional<Id> anchor;
  uint64_t lamport = 0;
  RegionId origin = 0;
  std::u32string text;
  std::vector<Id> removed;
};

class Reference {
 public:
  void Apply(const Step& step) {
    if (!step.insert) {
      for (const Id& id : step.removed)
        elements_.at(id).deleted = true;
      return;
    }
    std::optional<Id> parent = step.anchor;
    for (uint32_t i = 0; i < step.text.size(); ++i) {
      const Id id{std::get<0>(step.first), std::get<1>(step.first), i};
      elements_[id] = Element{parent, step.lamport + i, step.origin, step.text[i], false};
      parent = id;
    }
  }
  bool Holds(const std::optional<Id>& id) const { return !id || elements_.count(*id) > 0; }
  uint64_t MaxLamport() const {
    uint64_t max = 0;
    for (const auto& [id, e] : elements_)
      max = std::max(max, e.lamport);
    return max;
  }
  // Live elements, depth-first, children highest (lamport, origin) first.
  std::vector<Id> Live() const {
    std::map<std::optional<Id>, std::vector<Id>> children;
    for (const auto& [id, e] : elements_)
      children[e.parent].push_back(id);
    for (auto& [parent, list] : children) {
      std::sort(list.begin(), list.end(), [&](const Id& a, const Id& b) {
        const Element& x = elements_.at(a);
        const Element& y = elements_.at(b);
        return std::tie(x.lamport, x.origin) > std::tie(y.lamport, y.origin);
      });
    }
    std::vector<Id> out;
    std::vector<Id> stack;
    auto push_children = [&](const std::optional<Id>& parent) {
      auto it = children.find(parent);
      if (it == children.end()) return;
      for (auto c = it->second.rbegin(); c != it->second.rend(); ++c)
        stack.push_back(*c);
    };
    push_children(std::nullopt);
    while (!stack.empty()) {
      const Id id = stack.back();
      stack.pop_back();
      if (!elements_.at(id).deleted) out.push_back(id);
      push_children(id);
    }
    return out;
  }
  std::string Text() const {
    std::u32string text;
    for (const Id& id : Live())
      text.push_back(elements_.at(id).code_point);
    return EncodeUtf8(text);
  }

 private:
  std::map<Id, Element> elements_;
};

using KeyOps = std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>;

uint64_t DepsTotal(const VersionVector& deps) {
  uint64_t total = 0;
  for (RegionId r = 0; r < kMaxRegions; ++r)
    total += deps.Get(r);
  return total;
}

// The steps `op` made, from its write's edits on the text `view` (its origin's, when it made
// it); an error names what does not fit.
Result<std::vector<Step>> Derive(const LogicalWrite& write, const CreatedOp& op, Reference view) {
  std::vector<Step> steps;
  std::vector<TextEdit> edits;
  if (std::holds_alternative<KeyDelete>(write.write.body)) {
    Step all;
    all.removed = view.Live();
    if (all.removed.empty()) return InvalidArgument("a delete of a text that showed nothing");
    return std::vector<Step>{all};
  }
  edits = std::get<TextWrite>(write.write.body).edits;
  for (uint32_t k = 0; k < edits.size(); ++k) {
    const TextEdit& e = edits[k];
    const std::vector<Id> live = view.Live();
    Step step;
    step.insert = e.insert;
    if (e.insert) {
      if (e.pos > live.size()) return InvalidArgument("an insert past the end of its view");
      step.first = Id{op.serial, k, 0};
      if (e.pos > 0) step.anchor = live[e.pos - 1];
      step.lamport = view.MaxLamport() + 1;
      step.origin = op.dot.origin;
      step.text = DecodeUtf8(e.text).value_or(U"");
    } else {
      if (e.pos + e.len > live.size()) return InvalidArgument("a delete past the end of its view");
      step.removed.assign(live.begin() + static_cast<ptrdiff_t>(e.pos),
                          live.begin() + static_cast<ptrdiff_t>(e.pos + e.len));
    }
    view.Apply(step);
    steps.push_back(std::move(step));
  }
  return steps;
}

// The text of `ops`, or an error naming an op the reference cannot explain.
Result<std::string> ReferenceText(KeyOps ops) {
  // A causal order: an op's deps cover everything before it in its past, so they sum higher.
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) {
    return std::make_pair(DepsTotal(a.second->deps), a.second->dot) <
           std::make_pair(DepsTotal(b.second->deps), b.second->dot);
  });
  std::vector<std::vector<Step>> made(ops.size());
  Reference all;
  for (size_t i = 0; i < ops.size(); ++i) {
    Reference view;
    for (size_t j = 0; j < i; ++j) {
      if (!ops[i].second->deps.Covers(ops[j].second->dot)) continue;
      for (const Step& s : made[j])
        view.Apply(s);
    }
    auto steps = Derive(*ops[i].first, *ops[i].second, view);
    if (!steps.ok()) {
      return InvalidArgument("write " + std::to_string(ops[i].first->id) + " (" +
                             ops[i].second->dot.ToString() + "): " + steps.status().message());
    }
    made[i] = std::move(*steps);
    for (const Step& s : made[i]) {
      if (s.insert && !all.Holds(s.anchor)) return InvalidArgument("an anchor outside the past");
      all.Apply(s);
    }
  }
  return all.Text();
}

}  // namespace

void Checker::CheckTexts(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kText)) {
    const std::string where = "region " + std::to_string(replica.self()) + " text " + key;
    Result<std::string> expected = ReferenceText(ops);
    if (!expected.ok()) {
      Violation(where + ": the reference cannot replay its ops: " + expected.status().message());
      continue;
    }
    auto state = Shown(replica, {DataClass::kText, key});
    const std::string actual = state ? std::get<Rga>(*state).Text() : "";
    if (actual != *expected) {
      Violation(where + " reads \"" + actual + "\", not the text of its ops \"" + *expected + "\"");
    }
  }
}

}  // namespace meridian
