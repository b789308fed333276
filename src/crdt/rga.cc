#include "crdt/rga.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "base/assert.h"
#include "clock/clock_codec.h"
#include "crdt/dot_kernel.h"

namespace meridian {
namespace {

// The order of siblings: higher first.
template <typename E>
auto SortKey(const E& e) {
  return std::tie(e.lamport, e.id.dot.origin, e.id);
}

std::string Show(RgaId id) {
  return id.is_head() ? "head" : id.dot.ToString() + "." + std::to_string(id.index);
}

}  // namespace

// --- UTF-8 ----------------------------------------------------------------------------------

std::optional<std::u32string> DecodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<uint8_t>(text[i]);
    size_t n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      n = 1;
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      n = 2;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 3;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return std::nullopt;  // a stray continuation byte or 0xF8..0xFF
    }
    if (i + n > text.size()) return std::nullopt;
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t cp : code_points) {
    MERIDIAN_ASSERT(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

// --- Local edits ----------------------------------------------------------------------------

Result<RgaOp> Rga::Prepare(const TextWrite& write, RegionId origin) const {
  if (write.edits.empty()) return InvalidArgument("text write has no edit");
  Rga scratch = *this;  // each edit's positions are in the text the earlier ones left
  RgaOp op;
  for (size_t n = 0; n < write.edits.size(); ++n) {
    const TextEdit& e = write.edits[n];
    const std::string which = "edit " + std::to_string(n) + ": ";
    std::vector<RgaId> live;
    for (const Element& el : scratch.elements_)
      if (!el.deleted_by) live.push_back(el.id);
    RgaEdit edit;
    if (e.insert) {
      auto text = DecodeUtf8(e.text);
      if (!text) return InvalidArgument(which + "insert text is not valid UTF-8");
      if (text->empty()) return InvalidArgument(which + "insert text is empty");
      if (e.pos > live.size()) {
        return InvalidArgument(which + "insert position " + std::to_string(e.pos) +
                               " is past the end of the text (length " +
                               std::to_string(live.size()) + ")");
      }
      if (scratch.elements_.size() + text->size() > kMaxElements) {
        return OutOfRange(which + "the text would hold more than " + std::to_string(kMaxElements) +
                          " code points (deleted ones included until collected)");
      }
      edit.dot = dot_kernel::NextDot(scratch.context_, origin);
      edit.lamport = scratch.max_lamport_ + 1;
      edit.anchor = e.pos == 0 ? RgaId{} : live[e.pos - 1];
      edit.text = std::move(*text);
    } else {
      if (e.len == 0) return InvalidArgument(which + "delete length is 0");
      if (e.pos >= live.size() || e.len > live.size() - e.pos) {
        return InvalidArgument(which + "delete of " + std::to_string(e.len) + " at position " +
                               std::to_string(e.pos) + " passes the end of the text (length " +
                               std::to_string(live.size()) + ")");
      }
      edit.removed.assign(live.begin() + static_cast<ptrdiff_t>(e.pos),
                          live.begin() + static_cast<ptrdiff_t>(e.pos + e.len));
      std::sort(edit.removed.begin(), edit.removed.end());
    }
    RgaOp one{{edit}};
    scratch.Apply(one, Dot{origin, 1});  // the dot only marks the scratch copy's tombstones
    op.edits.push_back(std::move(edit));
  }
  return op;
}

RgaOp Rga::PrepareDeleteAll() const {
  RgaEdit edit;
  for (const Element& el : elements_)
    if (!el.deleted_by) edit.removed.push_back(el.id);
  if (edit.removed.empty()) return {};
  std::sort(edit.removed.begin(), edit.removed.end());
  return RgaOp{{std::move(edit)}};
}

// --- Applying ops -----------------------------------------------------------------------------

size_t Rga::Find(RgaId id) const {
  for (size_t i = 0; i < elements_.size(); ++i)
    if (elements_[i].id == id) return i;
  return elements_.size();
}

Status Rga::CheckApplicable(const RgaOp& op, RegionId origin) const {
  if (op.edits.empty()) return InvalidArgument("text op has no edit");
  VersionVector context = context_;
  std::map<Dot, std::pair<uint64_t, size_t>> fresh;  // this op's inserts: lamport, length
  // An op naming many elements (a delete of a long text) looks them up in an index, built once;
  // one naming a few scans for them.
  size_t named = 0;
  for (const RgaEdit& edit : op.edits)
    named += 1 + edit.removed.size();
  std::map<RgaId, uint64_t> index;
  if (named > 8) {
    for (const Element& el : elements_)
      index.emplace(el.id, el.lamport);
  }
  auto lamport_of = [&](RgaId id) -> std::optional<uint64_t> {
    if (id.is_head()) return 0;
    if (auto it = fresh.find(id.dot); it != fresh.end()) {
      if (id.index < it->second.second) return it->second.first + id.index;
      return std::nullopt;
    }
    if (named > 8) {
      auto it = index.find(id);
      if (it == index.end()) return std::nullopt;
      return it->second;
    }
    const size_t at = Find(id);
    if (at == elements_.size()) return std::nullopt;
    return elements_[at].lamport;
  };
  for (const RgaEdit& edit : op.edits) {
    if (!edit.is_insert()) {
      for (RgaId id : edit.removed) {
        // A collected element (covered, absent) was deleted already: nothing to do.
        if (!lamport_of(id) && !context.Covers(id.dot)) {
          return InvalidArgument("text delete names " + Show(id) + ", not delivered here");
        }
      }
      continue;
    }
    if (edit.dot.origin != origin) {
      return InvalidArgument("text insert's dot names another region than the op's origin");
    }
    if (edit.dot.seq > context.Get(origin) + 1) {
      return InvalidArgument("text insert's dot skips its origin's previous one");
    }
    if (context.Covers(edit.dot)) continue;  // a duplicate: Apply ignores it
    const auto anchor = lamport_of(edit.anchor);
    if (!anchor) {
      return InvalidArgument("text insert anchors at " + Show(edit.anchor) +
                             ", not delivered here");
    }
    if (edit.lamport <= *anchor || edit.lamport > UINT64_MAX / 2) {
      return InvalidArgument("text insert's lamport is not above its anchor's");
    }
    context.Advance(edit.dot);
    fresh[edit.dot] = {edit.lamport, edit.text.size()};
  }
  return Status::Ok();
}

void Rga::ApplyInsert(const RgaEdit& edit) {
  MERIDIAN_ASSERT(!edit.text.empty());
  MERIDIAN_ASSERT(edit.dot.seq == context_.Get(edit.dot.origin) + 1);  // causal delivery
  size_t at = 0;
  if (!edit.anchor.is_head()) {
    at = Find(edit.anchor);
    MERIDIAN_ASSERT(at < elements_.size());  // no op to come names a collected element
    MERIDIAN_ASSERT(elements_[at].lamport < edit.lamport);
    ++at;
  }
  // Past the anchor's children that sort above this insert, and their subtrees (whose lamports
  // are higher still): invariant 2.
  const Element first{{edit.dot, 0}, edit.anchor, edit.lamport, 0, std::nullopt};
  while (at < elements_.size() && SortKey(elements_[at]) > SortKey(first))
    ++at;
  std::vector<Element> run;
  run.reserve(edit.text.size());
  for (uint32_t i = 0; i < edit.text.size(); ++i) {
    run.push_back({{edit.dot, i},
                   i == 0 ? edit.anchor : RgaId{edit.dot, i - 1},
                   edit.lamport + i,
                   edit.text[i],
                   std::nullopt});
  }
  elements_.insert(elements_.begin() + static_cast<ptrdiff_t>(at), run.begin(), run.end());
  context_.Advance(edit.dot);
  max_lamport_ = std::max(max_lamport_, edit.lamport + edit.text.size() - 1);
}

bool Rga::ApplyDelete(const RgaEdit& edit, Dot op_dot) {
  const std::set<RgaId> removed(edit.removed.begin(), edit.removed.end());
  size_t found = 0;
  bool changed = false;
  for (Element& el : elements_) {
    if (!removed.contains(el.id)) continue;
    ++found;
    if (!el.deleted_by || op_dot < *el.deleted_by) {
      changed = changed || !el.deleted_by;
      el.deleted_by = op_dot;
    }
  }
  if (found < removed.size()) {
    for (RgaId id : removed)
      MERIDIAN_ASSERT(context_.Covers(id.dot));  // missing ones were collected
  }
  return changed;
}

bool Rga::Apply(const RgaOp& op, Dot op_dot) {
  bool changed = false;
  for (const RgaEdit& edit : op.edits) {
    if (!edit.is_insert()) {
      changed = ApplyDelete(edit, op_dot) || changed;
    } else if (!context_.Covers(edit.dot)) {
      ApplyInsert(edit);
      changed = true;
    }
  }
  return changed;
}

// --- Merging and collecting -----------------------------------------------------------------

bool Rga::Linearize(std::vector<Element>& elements) {
  std::map<RgaId, std::vector<const Element*>> children;
  for (const Element& el : elements)
    children[el.anchor].push_back(&el);
  for (auto& [anchor, list] : children) {
    std::sort(list.begin(), list.end(),
              [](const Element* a, const Element* b) { return SortKey(*a) > SortKey(*b); });
  }
  std::vector<Element> ordered;
  ordered.reserve(elements.size());
  // Depth-first from the head: a stack of (children list, next index).
  std::vector<std::pair<const std::vector<const Element*>*, size_t>> stack;
  if (auto it = children.find(RgaId{}); it != children.end()) stack.push_back({&it->second, 0});
  while (!stack.empty()) {
    auto& [list, next] = stack.back();
    if (next == list->size()) {
      stack.pop_back();
      continue;
    }
    const Element* el = (*list)[next++];
    ordered.push_back(*el);
    if (auto it = children.find(el->id); it != children.end()) stack.push_back({&it->second, 0});
  }
  if (ordered.size() != elements.size()) return false;  // some anchor is missing (or a cycle)
  elements = std::move(ordered);
  return true;
}

void Rga::Merge(const Rga& other) {
  std::set<RgaId> theirs;
  for (const Element& el : other.elements_)
    theirs.insert(el.id);
  // Kept when both hold it, or when the side lacking it never saw it (else it collected it).
  std::map<RgaId, Element> joined;
  for (const Element& el : elements_) {
    if (!theirs.contains(el.id) && other.context_.Covers(el.id.dot)) continue;
    joined.emplace(el.id, el);
  }
  std::set<RgaId> mine_ids;
  for (const Element& el : elements_)
    mine_ids.insert(el.id);
  for (const Element& el : other.elements_) {
    auto it = joined.find(el.id);
    if (it == joined.end()) {
      if (!mine_ids.contains(el.id) && !context_.Covers(el.id.dot)) joined.emplace(el.id, el);
      continue;
    }
    Element& mine = it->second;
    // One id names one code point; should a peer's bug break that, a deterministic choice
    // keeps the merge commutative.
    const std::optional<Dot> deleted =
        !mine.deleted_by
            ? el.deleted_by
            : (!el.deleted_by ? mine.deleted_by : std::min(*mine.deleted_by, *el.deleted_by));
    if (std::tie(el.lamport, el.anchor, el.code_point) >
        std::tie(mine.lamport, mine.anchor, mine.code_point)) {
      mine = el;
    }
    mine.deleted_by = deleted;
  }
  std::vector<Element> elements;
  elements.reserve(joined.size());
  for (auto& [id, el] : joined)
    elements.push_back(std::move(el));
  // What a side collected had no element after it anywhere (header comment), so every anchor
  // is still here.
  MERIDIAN_ASSERT(Linearize(elements));
  elements_ = std::move(elements);
  context_.Merge(other.context_);
  max_lamport_ = std::max(max_lamport_, other.max_lamport_);
}

size_t Rga::CollectGarbage(const VersionVector& stable, const VersionVector& /*reflected*/) {
  std::map<RgaId, size_t> children;
  for (const Element& el : elements_)
    ++children[el.anchor];
  std::vector<bool> drop(elements_.size(), false);
  size_t dropped = 0;
  // Backwards: an element's subtree follows it, so its children are decided before it.
  for (size_t i = elements_.size(); i-- > 0;) {
    const Element& el = elements_[i];
    if (!el.deleted_by || !stable.Covers(*el.deleted_by)) continue;
    if (auto it = children.find(el.id); it != children.end() && it->second > 0) continue;
    drop[i] = true;
    ++dropped;
    --children[el.anchor];
  }
  if (dropped == 0) return 0;
  size_t i = 0;
  std::erase_if(elements_, [&](const Element&) { return drop[i++]; });
  return dropped;
}

std::string Rga::Text() const {
  std::u32string live;
  for (const Element& el : elements_)
    if (!el.deleted_by) live.push_back(el.code_point);
  return EncodeUtf8(live);
}

size_t Rga::Length() const {
  return static_cast<size_t>(std::count_if(elements_.begin(), elements_.end(),
                                           [](const Element& e) { return !e.deleted_by; }));
}

size_t Rga::TombstoneCount() const {
  return elements_.size() - Length();
}

bool Rga::HasCollectableTombstones() const {
  std::map<RgaId, bool> live_below;
  for (size_t i = elements_.size(); i-- > 0;) {  // subtrees before their roots
    const Element& el = elements_[i];
    const bool below = live_below[el.id];
    if (el.deleted_by && !below) return true;
    if (!el.deleted_by || below) live_below[el.anchor] = true;
  }
  return false;
}

// --- Codecs -----------------------------------------------------------------------------------

namespace {

void EncodeId(RgaId id, pb::RgaId* out) {
  meridian::Encode(id.dot, out->mutable_dot());
  if (id.index != 0) out->set_index(id.index);
}

// `present` false: the head.
Result<RgaId> DecodeId(bool present, const pb::RgaId& in, std::string_view what) {
  if (!present) return RgaId{};
  if (!in.has_dot()) return InvalidArgument(std::string(what) + ": id without a dot");
  auto dot = meridian::Decode(in.dot());
  if (!dot.ok()) return InvalidArgument(std::string(what) + ": " + dot.status().message());
  return RgaId{*dot, in.index()};
}

bool ValidCodePoint(uint32_t cp) {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

}  // namespace

void Rga::Encode(pb::Rga* out) const {
  out->Clear();
  for (const Element& el : elements_) {
    pb::Rga::Element* e = out->add_elements();
    EncodeId(el.id, e->mutable_id());
    if (!el.anchor.is_head()) EncodeId(el.anchor, e->mutable_anchor());
    e->set_lamport(el.lamport);
    e->set_code_point(el.code_point);
    if (el.deleted_by) meridian::Encode(*el.deleted_by, e->mutable_deleted_by());
  }
  meridian::Encode(context_, out->mutable_context());
  out->set_max_lamport(max_lamport_);
}

Result<Rga> Rga::Decode(const pb::Rga& in) {
  Rga rga;
  auto context = dot_kernel::DecodeContext(in.has_context(), in.context(), "text");
  if (!context.ok()) return context.status();
  rga.context_ = *context;
  rga.max_lamport_ = in.max_lamport();
  std::map<RgaId, uint64_t> lamports;
  for (int i = 0; i < in.elements_size(); ++i) {
    const pb::Rga::Element& e = in.elements(i);
    const std::string what = "text element " + std::to_string(i);
    auto id = DecodeId(true, e.id(), what);
    if (!id.ok()) return id.status();
    auto anchor = DecodeId(e.has_anchor(), e.anchor(), what + " anchor");
    if (!anchor.ok()) return anchor.status();
    if (!e.has_id()) return InvalidArgument(what + ": id missing");
    if (!rga.context_.Covers(id->dot)) return InvalidArgument(what + ": dot not in the context");
    if (!ValidCodePoint(e.code_point())) return InvalidArgument(what + ": not a code point");
    if (e.lamport() == 0 || e.lamport() > rga.max_lamport_) {
      return InvalidArgument(what + ": lamport 0 or above the text's highest");
    }
    Element el{*id, *anchor, e.lamport(), static_cast<char32_t>(e.code_point()), std::nullopt};
    if (e.has_deleted_by()) {
      auto by = meridian::Decode(e.deleted_by());
      if (!by.ok()) return InvalidArgument(what + ": deleted_by: " + by.status().message());
      el.deleted_by = *by;
    }
    if (!lamports.emplace(el.id, el.lamport).second) return InvalidArgument(what + ": id twice");
    rga.elements_.push_back(el);
  }
  for (const Element& el : rga.elements_) {
    if (el.anchor.is_head()) continue;
    auto anchor = lamports.find(el.anchor);
    if (anchor == lamports.end() || anchor->second >= el.lamport) {
      return InvalidArgument("text element " + Show(el.id) +
                             ": anchor missing or not below it in lamport");
    }
  }
  std::vector<Element> ordered = rga.elements_;
  if (!Linearize(ordered) || ordered != rga.elements_) {
    return InvalidArgument("text elements are not in document order");
  }
  return rga;
}

void Encode(const RgaOp& in, pb::RgaOp* out) {
  out->Clear();
  for (const RgaEdit& edit : in.edits) {
    pb::RgaEdit* e = out->add_edits();
    if (edit.is_insert()) {
      MERIDIAN_ASSERT(!edit.text.empty() && edit.removed.empty() && edit.lamport >= 1);
      Encode(edit.dot, e->mutable_dot());
      e->set_lamport(edit.lamport);
      if (!edit.anchor.is_head()) EncodeId(edit.anchor, e->mutable_anchor());
      e->set_text(EncodeUtf8(edit.text));
    } else {
      MERIDIAN_ASSERT(!edit.removed.empty() && edit.text.empty());
      for (RgaId id : edit.removed)
        EncodeId(id, e->add_removed());
    }
  }
}

Result<RgaOp> Decode(const pb::RgaOp& in) {
  RgaOp op;
  if (in.edits_size() == 0) return InvalidArgument("text op has no edit");
  for (int i = 0; i < in.edits_size(); ++i) {
    const pb::RgaEdit& e = in.edits(i);
    const std::string what = "text edit " + std::to_string(i);
    RgaEdit edit;
    if (e.has_dot()) {
      auto dot = Decode(e.dot());
      if (!dot.ok()) return InvalidArgument(what + ": " + dot.status().message());
      edit.dot = *dot;
      if (e.lamport() == 0) return InvalidArgument(what + ": insert without a lamport");
      edit.lamport = e.lamport();
      auto anchor = DecodeId(e.has_anchor(), e.anchor(), what + " anchor");
      if (!anchor.ok()) return anchor.status();
      edit.anchor = *anchor;
      auto text = DecodeUtf8(e.text());
      if (!text || text->empty()) return InvalidArgument(what + ": insert text empty or not UTF-8");
      edit.text = std::move(*text);
      if (e.removed_size() != 0) return InvalidArgument(what + ": an insert that also removes");
    } else {
      if (e.lamport() != 0 || e.has_anchor() || !e.text().empty()) {
        return InvalidArgument(what + ": a delete with insert fields");
      }
      if (e.removed_size() == 0) return InvalidArgument(what + ": a delete of nothing");
      for (const pb::RgaId& r : e.removed()) {
        auto id = DecodeId(true, r, what + " removed");
        if (!id.ok()) return id.status();
        if (!edit.removed.empty() && edit.removed.back() >= *id) {
          return InvalidArgument(what + ": removed ids not strictly ascending");
        }
        edit.removed.push_back(*id);
      }
    }
    op.edits.push_back(std::move(edit));
  }
  return op;
}

}  // namespace meridian
