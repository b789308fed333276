// libFuzzer target: peer messages fed to one region's Replica must never crash it (no
// MERIDIAN_ASSERT is reachable from a peer), and no peer can make it hold an op of its own origin
// it never made, or of a region that does not exist. Also compiled into fuzz_test, which runs it
// over seeded random inputs (replica_fuzz_test.cc), so gcc builds check it too.
//
// Input layout: byte 0 picks the flavour (bit 0: structured) and the topology (bits 1-2). The
// region never starts rejoining here: a rejoining region legitimately takes its own ops back,
// which the invariant below forbids. Then events until the bytes run out (at most kEventsMax):
//   raw:        [event byte][from byte][length: 2 bytes][that many bytes: a pb::PeerMessage]
//   structured: [event byte][from byte][FillMessage's choices for a pb::PeerMessage]
// The event byte also interleaves ticks, local writes, link changes and quorum reads, so hostile
// messages meet every state the replica can be in (transfers under way, buffered ops, ...).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/assert.h"
#include "fuzz/byte_source.h"
#include "fuzz/fuzz_bodies.h"
#include "fuzz/proto_filler.h"
#include "replica/replica.h"

namespace meridian::fuzz {
namespace {

constexpr RegionId kRegions = 3;
constexpr RegionId kSelf = 0;
constexpr size_t kEventsMax = 64;  // enough for multi-step exchanges; bounds the time per input

ReplicaOptions Options(Topology topology) {
  ReplicaOptions o;
  o.self = kSelf;
  o.region_count = kRegions;
  o.topology = topology;
  // Small windows and buffers, so the fuzzer reaches their limits with short inputs.
  o.max_batch_ops = 8;
  o.max_buffered_ops = 16;
  o.snapshot_chunk_keys = 2;
  o.resend_timeout_ticks = 3;
  o.relay_after_ticks = 2;
  o.ack_interval_ticks = 2;
  o.gc_interval_ticks = 2;
  o.anti_entropy_interval_ticks = 5;
  o.snapshot_retry_ticks = 3;
  o.inbound_idle_ticks = 6;
  o.catch_up_wait_ticks = 2;
  return o;
}

const FillOptions& Fill() {
  static const FillOptions options{{"k", "c", "t", "r", "a", "b", "f", "idem"}, 6, 4};
  return options;
}

ClientWrite LocalWrite(ByteSource& in) {
  static const std::string kKeys[] = {"k", "c", "t", "r"};
  const std::string key = kKeys[in.Below(4)];
  const std::string idempotency = in.Bool() ? "idem" : "";
  switch (in.Below(5)) {
    case 0:
      return {{DataClass::kProfile, key}, idempotency, LwwMapOp{false, {{"f", "v"}}}};
    case 1:
      return {{DataClass::kCounter, key}, idempotency, int64_t{1 + static_cast<int>(in.Below(5))}};
    case 2:
      return {{DataClass::kTags, key}, idempotency, TagsWrite{{"a"}, {"b"}}};
    case 3:
      return {{DataClass::kRegister, key}, idempotency, std::string("v")};
    default:
      return {{static_cast<DataClass>(1 + in.Below(4)), key}, "", KeyDelete{}};
  }
}

// What no peer may cause, whatever it sends.
void CheckInvariants(const Replica& replica, const Output& out) {
  for (const auto& applied : out.applied) {
    MERIDIAN_ASSERT(applied.dot.origin < kRegions);
  }
  // Only this region makes ops of its own origin (it is not rejoining here).
  MERIDIAN_ASSERT(replica.applied().Get(kSelf) == replica.stats().ops_applied_local);
  for (RegionId r = kRegions; r < kMaxRegions; ++r) {
    MERIDIAN_ASSERT(replica.applied().Get(r) == 0);
  }
}

}  // namespace

FuzzOutcome RunReplicaFuzz(const uint8_t* data, size_t size) {
  ByteSource in(data, size);
  const uint8_t mode = in.Byte();
  const bool structured = (mode & 1) != 0;
  static constexpr Topology kTopologies[] = {Topology::kMesh, Topology::kHub, Topology::kRing,
                                             Topology::kMesh};
  Replica replica(Options(kTopologies[(mode >> 1) & 3]));
  uint64_t now = 1'000'000;
  for (size_t event = 0; event < kEventsMax && !in.empty(); ++event) {
    const uint8_t kind = in.Byte();
    Output out;
    switch (kind % 8) {
      case 0:
        replica.Tick(now += 10, &out);
        break;
      case 1: {
        // Errors are the client's answer; what matters here is that nothing breaks.
        (void)replica.OnClientWrite(LocalWrite(in), now, &out);
        break;
      }
      case 2: {
        const RegionId peer = static_cast<RegionId>(1 + in.Below(kRegions - 1));
        if (in.Bool()) {
          replica.OnPeerConnected(peer, &out);
        } else {
          replica.OnPeerDisconnected(peer);
        }
        break;
      }
      case 3:
        replica.RequestRead(event, {DataClass::kCounter, "c"}, now, &out);
        break;
      default: {
        const RegionId from = static_cast<RegionId>(in.Below(kRegions + 1));  // one not a region
        pb::PeerMessage message;
        if (structured) {
          FillMessage(in, Fill(), &message);
          // Mostly a consistent envelope, so the bodies' own checks are reached.
          if (in.Below(8) != 0) message.set_from(from);
          if (in.Below(4) != 0) message.set_incarnation(1 + in.Below(2));
        } else {
          const size_t length = in.Byte() | (size_t{in.Byte()} << 8);
          const std::string bytes = in.Bytes(length);
          if (!message.ParseFromString(bytes)) continue;
        }
        replica.OnMessage(from, message, now, &out);
        break;
      }
    }
    CheckInvariants(replica, out);
  }
  // Reading what the messages left must work too.
  (void)replica.catch_up();
  (void)replica.Peers();
  for (const auto& [key, state] : replica.states())
    (void)replica.Read(key);
  return {replica.stats().ops_applied_remote + replica.stats().snapshots_applied,
          replica.stats().malformed_messages};
}

}  // namespace meridian::fuzz
