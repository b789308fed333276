// Quorum reads: asking neighbours for one key's state, and answering them.
#include "clock/clock_codec.h"
#include "replica/replica.h"

namespace meridian {

void Replica::RequestRead(uint64_t request_id, const StateKey& key, uint64_t physical_ms,
                          Output* out) {
  for (RegionId peer : neighbors_) {
    pb::PeerMessage m = NewMessage(physical_ms);
    pb::ReadRequest* request = m.mutable_read_request();
    request->set_id(request_id);
    request->set_data_class(static_cast<uint32_t>(key.data_class));
    request->set_key(key.key);
    out->messages.emplace_back(peer, std::move(m));
  }
}

void Replica::HandleReadRequest(RegionId from, const pb::ReadRequest& request, uint64_t physical_ms,
                                Output* out) {
  std::optional<DataClass> data_class = DataClassFromNumber(request.data_class());
  if (!data_class || !CheckKeyBounds(StateKey{*data_class, request.key()}).ok()) {
    Refuse(PeerRefusal::kReadRequest);
    return;
  }
  pb::PeerMessage m = NewMessage(physical_ms);
  pb::ReadReply* reply = m.mutable_read_reply();
  reply->set_id(request.id());
  ReadResult result = Read(StateKey{*data_class, request.key()});
  if (result.state) {
    reply->set_found(true);
    EncodeState(*result.state, reply->mutable_state());
  }
  Encode(result.applied, reply->mutable_applied());
  out->messages.emplace_back(from, std::move(m));
}

}  // namespace meridian
