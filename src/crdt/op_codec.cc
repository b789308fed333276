#include "crdt/op_codec.h"

#include <algorithm>
#include <set>
#include <string>

#include "base/assert.h"
#include "clock/clock_codec.h"
#include "crdt/dot_kernel.h"

namespace meridian {
namespace {

bool ValidDot(Dot d) {
  return d.origin < kMaxRegions && d.seq >= 1;
}

Status CheckFields(const LwwMapOp& op) {
  std::set<std::string> names;
  for (size_t i = 0; i < op.fields.size(); ++i) {
    if (!names.insert(op.fields[i].first).second) {
      return InvalidArgument("lww map op field " + std::to_string(i) + ": duplicate name");
    }
  }
  return Status::Ok();
}

// What an add/write op must satisfy beyond each dot being well formed.
Status CheckDotted(Dot dot, const std::vector<Dot>& observed, const std::string& what) {
  if (!ValidDot(dot)) return InvalidArgument(what + ": dot " + dot.ToString() + " is invalid");
  if (!std::all_of(observed.begin(), observed.end(), ValidDot)) {
    return InvalidArgument(what + ": invalid observed dot");
  }
  if (!dot_kernel::StrictlyAscending(observed)) {
    return InvalidArgument(what + ": observed dots not strictly ascending");
  }
  return dot_kernel::CheckObservedPrecede(dot, observed, what);
}

Status Check(const OrSetOp& op) {
  if (op.is_add) return CheckDotted(op.dot, op.observed, "or-set add");
  if (op.dot != Dot{}) return InvalidArgument("or-set remove carries a dot");
  if (!std::all_of(op.observed.begin(), op.observed.end(), ValidDot) ||
      !dot_kernel::StrictlyAscending(op.observed)) {
    return InvalidArgument("or-set remove: observed dots invalid or not strictly ascending");
  }
  return Status::Ok();
}

Status Check(const MvOp& op) {
  if (!op.remove) return CheckDotted(op.dot, op.observed, "mv write");
  if (op.dot != Dot{}) return InvalidArgument("mv delete carries a dot");
  if (!op.value.empty()) return InvalidArgument("mv delete carries a value");
  if (!std::all_of(op.observed.begin(), op.observed.end(), ValidDot) ||
      !dot_kernel::StrictlyAscending(op.observed)) {
    return InvalidArgument("mv delete: observed dots invalid or not strictly ascending");
  }
  return Status::Ok();
}

// Decodes a required dot; `what` names it in errors.
Result<Dot> DecodeRequiredDot(bool present, const pb::Dot& in, const std::string& what) {
  if (!present) return InvalidArgument(what + ": dot missing");
  auto dot = Decode(in);
  if (!dot.ok()) return InvalidArgument(what + ": " + dot.status().message());
  return dot;
}

}  // namespace

void Encode(const LwwMapOp& in, pb::LwwMapOp* out) {
  MERIDIAN_ASSERT(CheckFields(in).ok());
  out->Clear();
  out->set_clear(in.clear);
  for (const auto& [name, value] : in.fields) {
    pb::LwwMapOp::Field* field = out->add_fields();
    field->set_name(name);
    if (value.has_value()) field->set_value(*value);
  }
}

void Encode(const OrSetOp& in, pb::OrSetOp* out) {
  MERIDIAN_ASSERT(Check(in).ok());
  out->Clear();
  out->set_element(in.element);
  out->set_is_add(in.is_add);
  if (in.is_add) Encode(in.dot, out->mutable_dot());
  dot_kernel::EncodeDots(in.observed, out->mutable_observed());
}

void Encode(const MvOp& in, pb::MvOp* out) {
  MERIDIAN_ASSERT(Check(in).ok());
  out->Clear();
  out->set_value(in.value);
  if (!in.remove) Encode(in.dot, out->mutable_dot());
  dot_kernel::EncodeDots(in.observed, out->mutable_observed());
  out->set_remove(in.remove);
}

Result<LwwMapOp> Decode(const pb::LwwMapOp& in) {
  LwwMapOp op;
  op.clear = in.clear();
  op.fields.reserve(in.fields_size());
  for (const pb::LwwMapOp::Field& field : in.fields()) {
    std::optional<std::string> value;
    if (field.has_value()) value = field.value();
    op.fields.emplace_back(field.name(), std::move(value));
  }
  MERIDIAN_RETURN_IF_ERROR(CheckFields(op));
  return op;
}

Result<OrSetOp> Decode(const pb::OrSetOp& in) {
  OrSetOp op;
  op.element = in.element();
  op.is_add = in.is_add();
  if (op.is_add) {
    auto dot = DecodeRequiredDot(in.has_dot(), in.dot(), "or-set add");
    if (!dot.ok()) return dot.status();
    op.dot = *dot;
  } else if (in.has_dot()) {
    return InvalidArgument("or-set remove carries a dot");
  }
  auto observed = dot_kernel::DecodeDots(in.observed(), "or-set op observed");
  if (!observed.ok()) return observed.status();
  op.observed = std::move(observed).value();
  MERIDIAN_RETURN_IF_ERROR(Check(op));
  return op;
}

Result<MvOp> Decode(const pb::MvOp& in) {
  MvOp op;
  op.value = in.value();
  op.remove = in.remove();
  if (op.remove) {
    if (in.has_dot()) return InvalidArgument("mv delete carries a dot");
  } else {
    auto dot = DecodeRequiredDot(in.has_dot(), in.dot(), "mv write");
    if (!dot.ok()) return dot.status();
    op.dot = *dot;
  }
  auto observed = dot_kernel::DecodeDots(in.observed(), "mv write observed");
  if (!observed.ok()) return observed.status();
  op.observed = std::move(observed).value();
  MERIDIAN_RETURN_IF_ERROR(Check(op));
  return op;
}

}  // namespace meridian
