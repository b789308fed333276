// Internal to ReplicationTransport: the outbound link to one peer, a state machine on the CQ
// thread that dials the peer, handshakes, writes the peer's queue in order, and re-dials with
// capped exponential backoff when the stream fails (ReconnectBackoff: a short cap once the link
// has been up, counted from the failed attempt's start).
//
// Invariants:
//  1. At most one stream attempt (Call) exists; a new one is dialled only after the previous one
//     has completed every operation and been destroyed, so a tag never outlives its call.
//  2. A live call always has an operation in flight (start, write, read or the handshake
//     alarm); once open, a read is always pending, which is how a stream that dies while idle
//     (keepalive failure, peer gone) is noticed at once.
//  3. At most one write is in flight; the message it writes stays in Call::outgoing until it
//     completes, so messages leave in queue order. Queued messages are written only once the
//     stream is open for sending: after the hello reply, or, on a trusted link (its last
//     handshake succeeded and no stream since failed after its hello), right after the hello.
//  4. A failed call starts no operation but Finish (and not even that after stop_seen). It is
//     cancelled so that what is in flight completes promptly, except when its read ended (the
//     stream is over, and cancelling would hide the peer's status).
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "net/reconnect_backoff.h"
#include "net/replication_state.h"

namespace meridian::net_internal {

class OutboundLink {
 public:
  OutboundLink(TransportState& state, RegionId peer, const std::string& address);
  ~OutboundLink();
  OutboundLink(const OutboundLink&) = delete;
  OutboundLink& operator=(const OutboundLink&) = delete;

  // Starts a stream attempt. REQUIRES: no call and no backoff pending.
  void Dial();
  // Writes the next queued message if the stream is open and no write is in flight.
  void Pump();
  // Cancels the call and the backoff; nothing is started afterwards (state.stop_seen is set).
  void OnStop();

 private:
  struct Call;
  enum class Op { kStart, kWrite, kRead, kHandshakeAlarm, kFinish };

  void OnOpDone(Op op, bool ok);
  void OnStarted(bool ok);
  void OnWritten(bool ok);
  void OnRead(bool ok);
  void OnHandshakeAlarm(bool ok);
  void OnFinished();
  void OnBackoffDone();
  void BeginWrite(pb::PeerEnvelope envelope, size_t message_bytes);
  void BeginRead();
  void Established();
  // Marks the peer connected, tells the core and starts writing the queue. `early`: before the
  // hello reply (a trusted link).
  void OpenForSending(bool early);
  void LogEstablished();
  Status CheckReply(const pb::PeerEnvelope& reply) const;
  // Marks the call failed (once) and cancels its alarm; `cancel` also cancels the call, which
  // completes its other operations at once.
  void Fail(const std::string& why, bool cancel = true);
  void MaybeFinish();
  void ScheduleRedial();

  TransportState& state_;
  const RegionId peer_;
  const std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Replication::Stub> stub_;
  std::unique_ptr<Call> call_;
  OpTag start_tag_, write_tag_, read_tag_, handshake_tag_, finish_tag_;
  grpc::Alarm backoff_alarm_;
  OpTag backoff_tag_;
  bool backoff_pending_ = false;
  ReconnectBackoff backoff_;
  bool trusted_ = false;  // invariant 3
  // For the log line of each reconnection (one per link event, none per message): when the link
  // was lost, how many dials it took since, and when the current dial began and its stream
  // started.
  using SteadyClock = std::chrono::steady_clock;
  std::optional<SteadyClock::time_point> down_since_;
  uint64_t dials_since_down_ = 0;
  SteadyClock::time_point dial_started_;
  SteadyClock::time_point
      stream_started_;  // seeded per link: dialers of one peer do not redial in lockstep
};

}  // namespace meridian::net_internal
