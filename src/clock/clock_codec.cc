#include "clock/clock_codec.h"

namespace meridian {

void Encode(const HlcTimestamp& in, pb::HlcTimestamp* out) {
  out->set_physical_ms(in.physical_ms);
  out->set_logical(in.logical);
}

void Encode(const WriteStamp& in, pb::WriteStamp* out) {
  Encode(in.time, out->mutable_time());
  out->set_region(in.region);
}

void Encode(const Dot& in, pb::Dot* out) {
  out->set_origin(in.origin);
  out->set_seq(in.seq);
}

void Encode(const VersionVector& in, pb::VersionVector* out) {
  out->Clear();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (in.Get(r) == 0) continue;
    out->add_regions(r);
    out->add_values(in.Get(r));
  }
}

Result<HlcTimestamp> Decode(const pb::HlcTimestamp& in) {
  return HlcTimestamp{in.physical_ms(), in.logical()};
}

Result<WriteStamp> Decode(const pb::WriteStamp& in) {
  if (in.region() >= kMaxRegions) return InvalidArgument("write stamp region out of range");
  return WriteStamp{HlcTimestamp{in.time().physical_ms(), in.time().logical()}, in.region()};
}

Result<Dot> Decode(const pb::Dot& in) {
  if (in.origin() >= kMaxRegions) return InvalidArgument("dot origin out of range");
  if (in.seq() == 0) return InvalidArgument("dot seq must be >= 1");
  return Dot{in.origin(), in.seq()};
}

Result<VersionVector> Decode(const pb::VersionVector& in) {
  if (in.regions_size() != in.values_size()) {
    return InvalidArgument("version vector regions and values differ in length");
  }
  VersionVector out;
  int64_t previous = -1;
  for (int i = 0; i < in.regions_size(); ++i) {
    const uint32_t region = in.regions(i);
    if (region >= kMaxRegions) return InvalidArgument("version vector region out of range");
    if (static_cast<int64_t>(region) <= previous) {
      return InvalidArgument("version vector regions not strictly ascending");
    }
    if (in.values(i) == 0) return InvalidArgument("version vector holds an explicit zero");
    previous = region;
    out.Set(region, in.values(i));
  }
  return out;
}

}  // namespace meridian
