#include "replica/op_codec.h"

#include "clock/clock_codec.h"
#include "crdt/op_codec.h"

namespace meridian {
namespace {

// Which op body each class carries; a mismatch on the wire is rejected.
bool BodyFitsClass(DataClass c, pb::Op::BodyCase body) {
  switch (c) {
    case DataClass::kProfile:
      return body == pb::Op::kProfile;
    case DataClass::kCounter:
      return body == pb::Op::kCounterDelta || body == pb::Op::kCounterDelete;
    case DataClass::kTags:
      return body == pb::Op::kTags;
    case DataClass::kRegister:
      return body == pb::Op::kRegister;
    case DataClass::kText:
      return body == pb::Op::kText;
    case DataClass::kStock:
      return body == pb::Op::kStock;
  }
  return false;
}

Status DecodeBody(const pb::Op& in, Op* out) {
  switch (in.body_case()) {
    case pb::Op::kProfile: {
      auto body = Decode(in.profile());
      if (!body.ok()) return body.status();
      out->body = std::move(body).value();
      return Status::Ok();
    }
    case pb::Op::kCounterDelta:
      if (in.counter_delta() == 0) return InvalidArgument("op counter delta is zero");
      out->body = static_cast<int64_t>(in.counter_delta());
      out->counter_total =
          (static_cast<PnCounter::Total>(in.counter_total_high()) << 64) | in.counter_total();
      if (out->counter_total > PnCounter::kTotalMax) {
        return InvalidArgument("op counter total passes its bound");
      }
      return Status::Ok();
    case pb::Op::kCounterDelete: {
      if (!in.key_delete()) return InvalidArgument("op counter delete is not marked a key delete");
      if (in.counter_total() != 0 || in.counter_total_high() != 0) {
        return InvalidArgument("op counter delete carries a counter total");
      }
      auto body = Decode(in.counter_delete());
      if (!body.ok()) return body.status();
      out->body = std::move(body).value();
      return Status::Ok();
    }
    case pb::Op::kTags: {
      std::vector<OrSetOp> ops;
      for (const auto& t : in.tags().ops()) {
        auto one = Decode(t);
        if (!one.ok()) return one.status();
        ops.push_back(std::move(one).value());
      }
      // A delete of a set that showed nothing makes no op (OnClientWrite), so none is empty.
      if (ops.empty()) return InvalidArgument("op tags body is empty");
      out->body = std::move(ops);
      return Status::Ok();
    }
    case pb::Op::kRegister: {
      auto body = Decode(in.register_());
      if (!body.ok()) return body.status();
      if (body->remove != in.key_delete()) {
        return InvalidArgument("op register delete and key delete mark disagree");
      }
      out->body = std::move(body).value();
      return Status::Ok();
    }
    case pb::Op::kText: {
      auto body = Decode(in.text());
      if (!body.ok()) return body.status();
      out->body = std::move(body).value();
      return Status::Ok();
    }
    case pb::Op::kStock: {
      if (in.key_delete()) return InvalidArgument("op: a stock op is never a key delete");
      auto body = Decode(in.stock());
      if (!body.ok()) return body.status();
      out->body = *body;
      return Status::Ok();
    }
    case pb::Op::BODY_NOT_SET:
      break;
  }
  return InvalidArgument("op has no body");
}

}  // namespace

void EncodeOp(const Op& op, pb::Op* out) {
  out->Clear();
  Encode(op.dot, out->mutable_dot());
  Encode(op.stamp, out->mutable_stamp());
  Encode(op.deps, out->mutable_deps());
  out->set_data_class(static_cast<uint32_t>(op.target.data_class));
  out->set_key(op.target.key);
  out->set_idempotency_key(op.idempotency_key);
  if (op.compensates) Encode(*op.compensates, out->mutable_compensates());
  std::visit(
      [out, &op](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, LwwMapOp>) {
          Encode(body, out->mutable_profile());
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out->set_counter_delta(body);
          out->set_counter_total(static_cast<uint64_t>(op.counter_total));
          if (const uint64_t high = static_cast<uint64_t>(op.counter_total >> 64))
            out->set_counter_total_high(high);
        } else if constexpr (std::is_same_v<T, std::vector<OrSetOp>>) {
          for (const auto& t : body)
            Encode(t, out->mutable_tags()->add_ops());
        } else if constexpr (std::is_same_v<T, PnCounterDelete>) {
          Encode(body, out->mutable_counter_delete());
        } else if constexpr (std::is_same_v<T, RgaOp>) {
          Encode(body, out->mutable_text());
        } else if constexpr (std::is_same_v<T, StockOp>) {
          Encode(body, out->mutable_stock());
        } else {
          Encode(body, out->mutable_register_());
        }
      },
      op.body);
  if (op.key_delete) out->set_key_delete(true);
}

Result<Op> DecodeOp(const pb::Op& in) {
  Op op;
  auto dot = Decode(in.dot());
  if (!dot.ok()) return dot.status();
  op.dot = *dot;
  auto stamp = Decode(in.stamp());
  if (!stamp.ok()) return stamp.status();
  op.stamp = *stamp;
  if (op.stamp.region != op.dot.origin) return InvalidArgument("op stamp region != dot origin");
  auto deps = Decode(in.deps());
  if (!deps.ok()) return deps.status();
  op.deps = *deps;
  if (op.deps.Get(op.dot.origin) != op.dot.seq - 1) {
    return InvalidArgument("op deps must cover exactly the origin's previous op");
  }
  auto data_class = DataClassFromNumber(in.data_class());
  if (!data_class) return InvalidArgument("op has an unknown data class");
  if (!BodyFitsClass(*data_class, in.body_case())) {
    return InvalidArgument("op body does not match its data class");
  }
  if (in.key().empty()) return InvalidArgument("op key is empty");
  op.target = {*data_class, in.key()};
  op.idempotency_key = in.idempotency_key();
  op.key_delete = in.key_delete();
  if (in.has_compensates()) {
    auto c = Decode(in.compensates());
    if (!c.ok()) return c.status();
    if (*data_class != DataClass::kCounter) return InvalidArgument("only counters compensate");
    op.compensates = *c;
  }
  MERIDIAN_RETURN_IF_ERROR(DecodeBody(in, &op));
  if (op.compensates && !std::holds_alternative<int64_t>(op.body)) {
    return InvalidArgument("only counter deltas compensate");
  }
  return op;
}

}  // namespace meridian
