#include "replica/key_state.h"

namespace meridian {

KeyState EmptyState(DataClass data_class) {
  switch (data_class) {
    case DataClass::kProfile:
      return LwwMap{};
    case DataClass::kCounter:
      return PnCounter{};
    case DataClass::kTags:
      return OrSet{};
    case DataClass::kRegister:
      return MvRegister{};
    case DataClass::kText:
      return Rga{};
    case DataClass::kStock:
      return BoundedCounter{};
  }
  MERIDIAN_ASSERT(false);
  return LwwMap{};
}

bool StateMatchesClass(const KeyState& state, DataClass data_class) {
  return state.index() == EmptyState(data_class).index();
}

bool KeyPresent(const KeyState& state) {
  if (const auto* map = std::get_if<LwwMap>(&state)) return map->HasLiveField();
  if (const auto* counter = std::get_if<PnCounter>(&state)) return counter->Present();
  if (const auto* set = std::get_if<OrSet>(&state)) return !set->entries().empty();
  if (const auto* text = std::get_if<Rga>(&state)) return text->Length() > 0;
  if (const auto* stock = std::get_if<BoundedCounter>(&state)) return stock->Present();
  return std::get<MvRegister>(state).sibling_count() > 0;
}

void EncodeState(const KeyState& state, pb::KeyState* out) {
  out->Clear();
  std::visit(
      [out](const auto& s) {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, LwwMap>) s.Encode(out->mutable_profile());
        if constexpr (std::is_same_v<T, PnCounter>) s.Encode(out->mutable_counter());
        if constexpr (std::is_same_v<T, OrSet>) s.Encode(out->mutable_tags());
        if constexpr (std::is_same_v<T, MvRegister>) s.Encode(out->mutable_register_());
        if constexpr (std::is_same_v<T, Rga>) s.Encode(out->mutable_text());
        if constexpr (std::is_same_v<T, BoundedCounter>) s.Encode(out->mutable_stock());
      },
      state);
}

namespace {
template <typename T, typename P>
Result<KeyState> Wrap(const P& encoded) {
  auto decoded = T::Decode(encoded);
  if (!decoded.ok()) return decoded.status();
  return KeyState(std::move(decoded).value());
}
}  // namespace

Result<KeyState> DecodeState(const pb::KeyState& in, DataClass data_class) {
  switch (data_class) {
    case DataClass::kProfile:
      if (in.state_case() == pb::KeyState::kProfile) return Wrap<LwwMap>(in.profile());
      break;
    case DataClass::kCounter:
      if (in.state_case() == pb::KeyState::kCounter) return Wrap<PnCounter>(in.counter());
      break;
    case DataClass::kTags:
      if (in.state_case() == pb::KeyState::kTags) return Wrap<OrSet>(in.tags());
      break;
    case DataClass::kRegister:
      if (in.state_case() == pb::KeyState::kRegister) return Wrap<MvRegister>(in.register_());
      break;
    case DataClass::kText:
      if (in.state_case() == pb::KeyState::kText) return Wrap<Rga>(in.text());
      break;
    case DataClass::kStock:
      if (in.state_case() == pb::KeyState::kStock) return Wrap<BoundedCounter>(in.stock());
      break;
  }
  return InvalidArgument("key state does not match the key's data class");
}

std::string StateBytes(const KeyState& state) {
  pb::KeyState encoded;
  EncodeState(state, &encoded);
  std::string bytes;
  MERIDIAN_ASSERT(encoded.SerializeToString(&bytes));
  return bytes;
}

bool HasBookkeeping(const KeyState& state) {
  const auto* map = std::get_if<LwwMap>(&state);
  return map != nullptr && !map->collected().IsZero();
}

std::string ContentBytes(const KeyState& state, const std::string& state_bytes) {
  if (!HasBookkeeping(state)) return state_bytes;
  const auto& map = std::get<LwwMap>(state);
  pb::KeyState encoded;
  map.Encode(encoded.mutable_profile(), /*with_collected=*/false);
  std::string bytes;
  MERIDIAN_ASSERT(encoded.SerializeToString(&bytes));
  return bytes;
}

void MergeState(KeyState& into, const KeyState& other) {
  MERIDIAN_ASSERT(into.index() == other.index());
  std::visit(
      [&other](auto& s) {
        using T = std::decay_t<decltype(s)>;
        s.Merge(std::get<T>(other));
      },
      into);
}

Status CheckApplicable(const Op& op, const KeyState& state) {
  if (!StateMatchesClass(state, op.target.data_class)) return InvalidArgument("class mismatch");
  if (const auto* tags = std::get_if<std::vector<OrSetOp>>(&op.body)) {
    for (const auto& t : *tags) {
      if (t.is_add && t.dot.origin != op.dot.origin) {
        return InvalidArgument("tag add's dot names another region than the op's origin");
      }
    }
    return std::get<OrSet>(state).CheckApplicable(*tags);
  }
  if (const auto* mv = std::get_if<MvOp>(&op.body)) {
    if (!mv->remove && mv->dot.origin != op.dot.origin) {
      return InvalidArgument("register write's dot names another region than the op's origin");
    }
    return std::get<MvRegister>(state).CheckApplicable(*mv);
  }
  if (const auto* text = std::get_if<RgaOp>(&op.body)) {
    return std::get<Rga>(state).CheckApplicable(*text, op.dot.origin);
  }
  if (const auto* stock = std::get_if<StockOp>(&op.body)) {
    return std::get<BoundedCounter>(state).CheckApplicable(*stock, op.dot.origin);
  }
  if (const auto* delta = std::get_if<int64_t>(&op.body); delta && op.counter_total == 0) {
    return std::get<PnCounter>(state).CheckApply(op.dot.origin, *delta);
  }
  return Status::Ok();
}

void ApplyOpToState(const Op& op, KeyState& state, ApplyEffects* effects) {
  MERIDIAN_ASSERT(StateMatchesClass(state, op.target.data_class));
  switch (op.target.data_class) {
    case DataClass::kProfile:
      std::get<LwwMap>(state).Apply(std::get<LwwMapOp>(op.body), op.stamp, op.dot,
                                    &effects->contests);
      return;
    case DataClass::kCounter:
      if (const auto* d = std::get_if<PnCounterDelete>(&op.body)) {
        std::get<PnCounter>(state).ApplyDelete(*d);
      } else if (op.counter_total != 0) {
        std::get<PnCounter>(state).ApplyTotal(op.dot.origin, std::get<int64_t>(op.body),
                                              op.counter_total);
      } else {
        std::get<PnCounter>(state).Apply(op.dot.origin, std::get<int64_t>(op.body));
      }
      return;
    case DataClass::kTags:
      for (const auto& t : std::get<std::vector<OrSetOp>>(op.body))
        std::get<OrSet>(state).Apply(t);
      return;
    case DataClass::kRegister: {
      auto& reg = std::get<MvRegister>(state);
      reg.Apply(std::get<MvOp>(op.body), op.stamp);
      effects->siblings_after = reg.sibling_count();
      return;
    }
    case DataClass::kText:
      std::get<Rga>(state).Apply(std::get<RgaOp>(op.body), op.dot);
      return;
    case DataClass::kStock:
      std::get<BoundedCounter>(state).Apply(std::get<StockOp>(op.body), op.dot.origin);
      return;
  }
}

size_t CollectStateGarbage(KeyState& state, const VersionVector& stable,
                           const VersionVector& reflected) {
  if (auto* map = std::get_if<LwwMap>(&state)) return map->CollectGarbage(stable, reflected);
  if (auto* text = std::get_if<Rga>(&state)) return text->CollectGarbage(stable, reflected);
  return 0;  // counters, OR-sets and MV-registers keep no tombstones
}

bool HasCollectableGarbage(const KeyState& state) {
  if (const auto* text = std::get_if<Rga>(&state)) return text->HasCollectableTombstones();
  const auto* map = std::get_if<LwwMap>(&state);
  return map != nullptr && (map->TombstoneCount() > 0 || map->clear_mark().has_value());
}

}  // namespace meridian
