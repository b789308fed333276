#include "crdt/dot_kernel.h"

#include <string>

#include "clock/clock_codec.h"

namespace meridian::dot_kernel {

void EncodeDots(const std::vector<Dot>& dots, google::protobuf::RepeatedPtrField<pb::Dot>* out) {
  MERIDIAN_ASSERT(StrictlyAscending(dots));
  out->Clear();
  for (Dot d : dots)
    Encode(d, out->Add());
}

Result<std::vector<Dot>> DecodeDots(const google::protobuf::RepeatedPtrField<pb::Dot>& in,
                                    std::string_view what) {
  std::vector<Dot> dots;
  dots.reserve(in.size());
  for (const pb::Dot& encoded : in) {
    auto dot = Decode(encoded);
    if (!dot.ok()) return InvalidArgument(std::string(what) + ": " + dot.status().message());
    if (!dots.empty() && dots.back() >= *dot) {
      return InvalidArgument(std::string(what) + ": dots not strictly ascending at " +
                             dot->ToString());
    }
    dots.push_back(*dot);
  }
  return dots;
}

Status CheckObservedPrecede(Dot dot, const std::vector<Dot>& observed, std::string_view what) {
  for (Dot d : observed) {
    if (d.origin == dot.origin && d.seq >= dot.seq) {
      return InvalidArgument(std::string(what) + ": observed dot " + d.ToString() +
                             " is not older than the op's dot " + dot.ToString());
    }
  }
  return Status::Ok();
}

Result<VersionVector> DecodeContext(bool present, const pb::VersionVector& in,
                                    std::string_view what) {
  if (!present) return InvalidArgument(std::string(what) + ": causal context missing");
  auto context = Decode(in);
  if (!context.ok()) {
    return InvalidArgument(std::string(what) + ": context: " + context.status().message());
  }
  return context;
}

}  // namespace meridian::dot_kernel
