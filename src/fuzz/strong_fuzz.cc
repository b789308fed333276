// libFuzzer target: peer messages fed to one region's StrongNode (the handle node) must never
// crash it (no MERIDIAN_ASSERT is reachable from a peer), and every client request is still
// answered exactly once. Also compiled into fuzz_test, which runs it over seeded random inputs
// (strong_fuzz_test.cc), so gcc builds check it too.
//
// Input layout: byte 0 picks the flavour (bit 0: structured), the mode (bit 1: owner mode) and
// whether the node starts rejoining (bit 2). Then events until the bytes run out (at most
// kEventsMax):
//   raw:        [event byte][from byte][length: 2 bytes][that many bytes: a pb::StrongMessage]
//   structured: [event byte][from byte][FillMessage's choices for a pb::StrongMessage]
// The event byte also interleaves ticks, client requests and link changes, so hostile messages
// meet proposals in every phase.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "base/assert.h"
#include "fuzz/byte_source.h"
#include "fuzz/fuzz_bodies.h"
#include "fuzz/proto_filler.h"
#include "strong/strong_node.h"

namespace meridian::fuzz {
namespace {

constexpr RegionId kRegions = 3;
constexpr size_t kEventsMax = 64;

StrongOptions Options(uint8_t mode) {
  StrongOptions o;
  o.self = 0;
  o.region_count = kRegions;
  o.mode = (mode & 2) != 0 ? HandleMode::kOwner : HandleMode::kConsensus;
  o.rejoining = (mode & 4) != 0;
  // Short timeouts and small pages, so short inputs reach resends, backoffs and page limits.
  o.request_timeout_ticks = 8;
  o.unreachable_ticks = 4;
  o.resend_ticks = 2;
  o.backoff_ticks_min = 1;
  o.backoff_ticks_max = 2;
  o.max_pending_requests = 16;
  o.max_queued_per_handle = 4;
  o.max_batch = 2;
  o.recent_mutations = 2;
  o.sync_page_names_max = 2;
  o.sync_resend_ticks = 3;
  o.max_forward_replies = 4;
  return o;
}

const FillOptions& Fill() {
  static const FillOptions options{{"alice", "bob", "x", "owner-1", "owner-2", "ALICE"}, 6, 4};
  return options;
}

HandleRequest ClientRequest(ByteSource& in) {
  static const std::string kNames[] = {"alice", "bob", "x"};
  static const std::string kOwners[] = {"owner-1", "owner-2"};
  HandleRequest r;
  r.kind = static_cast<HandleOpKind>(1 + in.Below(3));
  r.name = kNames[in.Below(3)];
  if (r.kind != HandleOpKind::kRead) r.owner = kOwners[in.Below(2)];
  return r;
}

}  // namespace

FuzzOutcome RunStrongFuzz(const uint8_t* data, size_t size) {
  ByteSource in(data, size);
  const uint8_t mode = in.Byte();
  const bool structured = (mode & 1) != 0;
  StrongNode node(Options(mode));
  std::set<uint64_t> asked, answered;
  uint64_t next_request = 1;
  for (size_t event = 0; event < kEventsMax && !in.empty(); ++event) {
    const uint8_t kind = in.Byte();
    StrongOutput out;
    switch (kind % 8) {
      case 0:
        node.Tick(&out);
        break;
      case 1: {
        const uint64_t id = next_request++;
        if (node.OnClientRequest(id, ClientRequest(in), 1000, &out).ok()) asked.insert(id);
        break;
      }
      case 2:
        node.OnPeerConnected(static_cast<RegionId>(1 + in.Below(kRegions - 1)), &out);
        break;
      default: {
        const RegionId from = static_cast<RegionId>(in.Below(kRegions + 1));  // one not a region
        pb::StrongMessage message;
        if (structured) {
          FillMessage(in, Fill(), &message);
          if (in.Below(8) != 0) message.set_from(from);  // mostly a consistent envelope
        } else {
          const size_t length = in.Byte() | (size_t{in.Byte()} << 8);
          if (!message.ParseFromString(in.Bytes(length))) continue;
        }
        node.OnMessage(from, message, &out);
        break;
      }
    }
    // Invariant 6 of strong_node.h: answered once, and only what was asked.
    for (const HandleReply& reply : out.replies) {
      MERIDIAN_ASSERT(asked.count(reply.request_id) == 1);
      MERIDIAN_ASSERT(answered.insert(reply.request_id).second);
    }
  }
  // Every request is answered within request_timeout_ticks, whatever the peers sent.
  for (uint32_t t = 0; t <= Options(mode).request_timeout_ticks + 1; ++t) {
    StrongOutput out;
    node.Tick(&out);
    for (const HandleReply& reply : out.replies)
      MERIDIAN_ASSERT(answered.insert(reply.request_id).second);
  }
  MERIDIAN_ASSERT(answered == asked);
  MERIDIAN_ASSERT(node.pending_requests() == 0);
  return {node.stats().fast_rounds + node.stats().slow_rounds + node.stats().sync_pages,
          node.stats().malformed_messages};
}

}  // namespace meridian::fuzz
