// One client connection of the router's RESP front end: parse, answer the router's own commands,
// dispatch the rest to regions in order, fail over, and reply in order (resp_front.h).
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <charconv>

#include "api/session_token.h"
#include "auth/resp_gate.h"
#include "base/assert.h"
#include "router/resp_front_impl.h"

namespace meridian::router {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadChunk = 16 << 10;

RespParserOptions ClientParserOptions() {
  // As the region's RESP server: a value is at most 1 MiB, with room for a command around it.
  RespParserOptions o;
  o.max_bulk_bytes = (1 << 20) + 1024;
  o.max_command_bytes = 64 << 20;
  return o;
}

std::string ErrorReply(RespVersion version, std::string_view message) {
  std::string out;
  RespWriter(&out, version).WriteError(message);
  return out;
}

// The first line of a reply, for error messages.
std::string_view FirstLine(std::string_view frame) {
  return frame.substr(0, std::min(frame.find('\r'), size_t{200}));
}

}  // namespace

RespClient::RespClient(RespFront::Impl& front, tcp::socket socket, uint64_t id)
    : front_(front), socket_(std::move(socket)), id_(id), parser_(ClientParserOptions()) {
  parser_.set_authenticated(true);  // no AUTH configured: Redis' pre-AUTH limits do not apply
  state_.id = id;
  state_.location = front_.options.default_location;
  state_.tokens.resize(front_.options.slices);
  if (front_.options.listener_tls) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *front_.options.listener_tls);
  }
}

void RespClient::Start() {
  last_activity_ = RespClock::now();
  if (!tls_) return Read();
  handshaking_ = true;  // the sweep closes it past handshake_timeout_ms (contract 10)
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](boost::system::error_code ec) {
                          if (self->closed_) return;  // the sweep counted it
                          self->handshaking_ = false;
                          self->last_activity_ = RespClock::now();
                          if (ec) {
                            self->front_.metrics.CountRespTlsFailure(ClassifyTlsHandshakeError(ec));
                            return self->Close();  // contract 9: this connection only
                          }
                          self->Read();
                        });
}

const char* RespClient::TimedOut(RespClock::time_point now) const {
  const RespFrontOptions& options = front_.options;
  const auto quiet = now - last_activity_;
  if (handshaking_) {
    const bool late = options.handshake_timeout_ms > 0 &&
                      quiet >= std::chrono::milliseconds(options.handshake_timeout_ms);
    return late ? "handshake" : nullptr;
  }
  // Judged by when the command began, not by the last byte: a trickle keeps last_activity_
  // fresh.
  if (partial_since_ && options.command_timeout_ms > 0 &&
      now - *partial_since_ >= std::chrono::milliseconds(options.command_timeout_ms)) {
    return "command";
  }
  // A command waiting on a region is the router's wait, not the client's silence; a reply the
  // client does not read is its silence.
  const bool waiting_on_us = !slots_.empty();
  const bool idle = options.idle_timeout_ms > 0 && !waiting_on_us &&
                    quiet >= std::chrono::milliseconds(options.idle_timeout_ms);
  return idle ? "idle" : nullptr;
}

void RespClient::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  front_.clients.erase(id_);  // may release the last reference: touch nothing after
}

bool RespClient::Paused() const {
  return slots_.size() >= front_.options.max_pending_commands ||
         output_.size() >= front_.options.max_output_bytes ||
         request_bytes_ >= front_.options.max_request_bytes;
}

void RespClient::Read() {
  if (reading_ || closed_ || stop_reading_ || Paused()) return;
  reading_ = true;
  if (parse_pending_) {
    // Commands already read wait in the parser: run them before reading more (the client may
    // send nothing until they are answered). Posted, so that a long pipeline of commands the
    // router answers itself never recurses Parse -> Pump -> Read -> Parse.
    parse_pending_ = false;
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->reading_ = false;
      if (self->closed_) return;
      self->Parse();
      self->Read();
    });
    return;
  }
  const auto buffer = parser_.PrepareAppend(kReadChunk);
  auto on_read = [self = shared_from_this()](boost::system::error_code ec, size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    self->last_activity_ = RespClock::now();
    if (ec) return self->Close();
    self->parser_.CommitAppend(n);
    self->Parse();
    self->Read();
  };
  WithStream([&](auto& stream) {
    stream.async_read_some(asio::buffer(buffer.data(), buffer.size()), std::move(on_read));
  });
}

void RespClient::Parse() {
  bool completed_any = false;
  while (!stop_reading_ && !Paused()) {
    const RespParser::Outcome outcome = parser_.Next();
    if (outcome == RespParser::Outcome::kNeedMore) break;
    if (outcome == RespParser::Outcome::kError) {
      // Contract 5: answered, then this connection alone is closed.
      auto command = std::make_shared<Command>();
      command->done = true;
      command->close_after = true;
      command->reply = ErrorReply(state_.version, parser_.error().message());
      slots_.push_back(std::move(command));
      stop_reading_ = true;
      break;
    }
    Execute(parser_.args());
    completed_any = true;
  }
  // Paused on a bound with commands possibly left in the buffer: Read() parses them first.
  parse_pending_ = !stop_reading_ && Paused();
  // Every command copied what it keeps (its encoded request), so the views may die.
  parser_.Compact();
  // What is left unparsed is the start of a command the client has not finished sending
  // (unless parsing stopped on a bound, or on a framing error): contract 10's command limit.
  // When a command completed in this pass, the tail is a newer command and its clock starts now
  // (a steady pipeline whose every read ends mid-command is not a slow client).
  const bool partial = !parse_pending_ && !stop_reading_ && parser_.buffered_bytes() > 0;
  if (!partial) {
    partial_since_.reset();
  } else if (!partial_since_ || completed_any) {
    partial_since_ = RespClock::now();
  }
  Dispatch();
  Pump();
}

void RespClient::Execute(std::span<const std::string_view> args) {
  auto command = std::make_shared<Command>();
  command->seq = next_seq_++;
  command->kind = ClassifyRespCommand(args[0]);
  slots_.push_back(command);
  const auth::RespGateDecision gate =
      auth::GateRespCommand(front_.options.keys, auth_, args, front_.options.strong_prefix);
  if (gate.kind != auth::RespGateDecision::Kind::kRun) {
    if (gate.kind == auth::RespGateDecision::Kind::kReplyOk) {
      RespWriter(&command->reply, state_.version).WriteSimpleString("OK");
    } else {
      command->reply = ErrorReply(state_.version, gate.error);
    }
    command->done = true;
    front_.commands_answered_here.Increment();
    return;
  }
  if (command->kind == RespCommandKind::kWait) return ExecuteWait(command, args);
  if (command->kind == RespCommandKind::kRouter) {
    command->reply = AnswerOwnCommand(args, state_, front_.options.region_names);
    command->done = true;
    front_.commands_answered_here.Increment();
    if (state_.quit) {
      command->close_after = true;
      stop_reading_ = true;
    }
    return;
  }
  // Contract 11: the regions outside the keys' residency set are never tried.
  const Result<std::optional<RegionMask>> allowed = RespAllowedRegions(
      args, front_.options.residency, front_.options.strong_prefix, front_.options.region_names);
  if (!allowed.ok()) {
    command->reply = ErrorReply(state_.version, "ERR " + allowed.status().message());
    command->done = true;
    front_.commands_answered_here.Increment();
    return;
  }
  if (allowed->has_value()) {
    const RegionMask mask = **allowed;
    for (RegionId r = 0; r < front_.options.region_names.size(); ++r) {
      if (!Residency::Holds(mask, r)) command->barred.push_back(r);
    }
    command->allowed_names = MaskNames(mask, front_.options.region_names);
  }
  // Rule 9: the slice of the command's keys, in whichever region serves it.
  const KeySlices slices{0, front_.options.slices};
  const Result<uint32_t> slice = RespCommandSlice(args, slices);
  if (!slice.ok()) {
    command->reply = ErrorReply(state_.version, slice.status().message());
    command->done = true;
    front_.commands_answered_here.Increment();
    return;
  }
  command->slice = *slice;
  const std::string key =
      command->kind == RespCommandKind::kWrite ? front_.hooks.new_key() : std::string();
  // Rule 7: the client's token as of now goes with the command, the same on every attempt
  // (rule 9: its slice's vector, tagged with the slice).
  bool writes = false;
  std::optional<std::string> token;
  const VersionVector& session = state_.tokens[command->slice];
  if (IsRespDataCommand(args, &writes) && (writes || !session.IsZero())) {
    token = session.IsZero()
                ? std::string()
                : EncodeSessionToken(session, SliceTokenTag(command->slice, slices.count));
  }
  command->sessioned = token.has_value();
  command->request =
      EncodeRespRequest(args, key, token ? std::optional<std::string_view>(*token) : std::nullopt);
  command->version = state_.version;
  command->location = state_.location;
  request_bytes_ += command->request.size();
  waiting_.emplace(command->seq, command);
}

// Sends waiting commands, oldest first, while they go where the commands in flight are.
void RespClient::Dispatch() {
  while (!waiting_.empty() && !closed_) {
    const CommandPtr command = waiting_.begin()->second;
    if (command->kind == RespCommandKind::kWait) {
      if (in_flight_ > 0) return;  // rule 8: the writes before it are answered first
      waiting_.erase(waiting_.begin());
      SendWait(command);
      continue;
    }
    std::vector<RegionId> skip = command->tried;
    skip.insert(skip.end(), command->barred.begin(), command->barred.end());
    const std::optional<RegionId> region = front_.hooks.choose(command->location, skip);
    if (!region) {
      waiting_.erase(waiting_.begin());
      FinishWithoutRegion(command);
      continue;
    }
    const std::shared_ptr<RespUpstream>& upstream =
        front_.Upstream(*region, command->slice, command->version, id_);
    if (in_flight_ > 0 && upstream != bound_) return;  // contract 2: wait for those in flight
    waiting_.erase(waiting_.begin());
    Send(command, *region);
  }
}

void RespClient::Send(const CommandPtr& command, RegionId region) {
  bound_ = front_.Upstream(region, command->slice, command->version, id_);
  ++in_flight_;
  if (!command->tried.empty()) front_.metrics.reroutes.Increment();
  command->tried.push_back(region);
  const auto deadline =
      RespClock::now() +
      std::chrono::milliseconds(front_.options.forward_timeout_ms + command->wait_ms);
  bound_->Send(command->request, deadline,
               [weak = weak_from_this(), command, region](Result<std::string> r) {
                 if (auto self = weak.lock()) self->OnReply(command, region, std::move(r));
               });
}

void RespClient::ExecuteWait(const CommandPtr& command, std::span<const std::string_view> args) {
  // As a region's WAIT (server/resp_commands.cc), whose cap (RespOptions::max_wait_ms) bounds
  // how long the region holds it.
  constexpr int64_t kRegionWaitCapMs = 60'000;
  const auto number = [](std::string_view text) -> std::optional<int64_t> {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value < 0) {
      return std::nullopt;
    }
    return value;
  };
  front_.commands_answered_here.Increment();
  if (args.size() != 3) {
    command->reply = ErrorReply(state_.version, "ERR wrong number of arguments for 'WAIT' command");
    command->done = true;
    return;
  }
  const std::optional<int64_t> regions = number(args[1]);
  const std::optional<int64_t> timeout = number(args[2]);
  if (!regions || !timeout) {
    command->reply = ErrorReply(state_.version, "ERR value is not an integer or out of range");
    command->done = true;
    return;
  }
  command->wait_regions = std::string(args[1]);
  command->wait_timeout = std::string(args[2]);
  command->wait_ms = *timeout == 0 ? kRegionWaitCapMs : std::min(*timeout, kRegionWaitCapMs);
  command->version = state_.version;
  command->location = state_.location;
  waiting_.emplace(command->seq, command);
}

void RespClient::SendWait(const CommandPtr& command) {
  if (!command->tried.empty()) {  // the region answered a retryable error: nowhere else
    FinishWithoutRegion(command);
    return;
  }
  if (!state_.last_write) {  // no write yet: 0 at once, as a region answers
    RespWriter(&command->reply, command->version).WriteInteger(0);
    command->done = true;
    return;
  }
  const std::string_view args[] = {"MERIDIAN.WAITFOR", *state_.last_write, command->wait_regions,
                                   command->wait_timeout};
  command->request = EncodeRespRequest(args, "");
  request_bytes_ += command->request.size();
  command->slice = state_.last_write_slice;
  Send(command, state_.last_write_region);
}

void RespClient::OnReply(const CommandPtr& command, RegionId region, Result<std::string> result) {
  MERIDIAN_ASSERT(in_flight_ > 0);
  if (--in_flight_ == 0) bound_.reset();
  if (closed_) return;
  const std::string& name = front_.options.region_names[region];
  if (result.ok() && command->sessioned) {
    // Rule 7: the client's token and last write are kept here; the client gets the reply alone.
    if (const std::optional<SessionedReply> split = SplitSessionedReply(*result)) {
      const std::string tag = SliceTokenTag(command->slice, front_.options.slices);
      if (const Result<VersionVector> token = DecodeSessionToken(split->token, tag); token.ok()) {
        state_.tokens[command->slice].Merge(*token);
      }
      if (split->write) {
        state_.last_write = std::string(*split->write);
        state_.last_write_region = region;
        state_.last_write_slice = command->slice;
      }
      *result = std::string(split->reply);
    }
  }
  if (result.ok() && !IsRetryableRespReply(*result)) {
    Finish(command, std::move(*result), region);
  } else if (result.ok()) {
    // The region cannot serve it now; it stays healthy until a probe says otherwise.
    command->errors += (command->errors.empty() ? "" : "; ") + name + ": " +
                       std::string(FirstLine(*result).substr(1));
    command->fallback = std::move(*result);
    waiting_.emplace(command->seq, command);
  } else {
    const Status& status = result.status();
    command->errors += (command->errors.empty() ? "" : "; ") + name + ": " + status.message();
    // A full upstream queue says nothing about the region.
    if (status.code() != StatusCode::kResourceExhausted) {
      front_.hooks.forward_failed(command->location, region, status.message());
    }
    if (RetryAfterTransportFailure(command->kind)) {
      waiting_.emplace(command->seq, command);
    } else if (command->kind == RespCommandKind::kWait) {
      Finish(command,
             ErrorReply(command->version, "TRYAGAIN region " + name +
                                              ", which took this connection's last write, " +
                                              "failed during WAIT (" + status.message() +
                                              "); no other region can count that write's copies"),
             std::nullopt);
    } else {
      Finish(
          command,
          ErrorReply(command->version,
                     "TRYAGAIN region " + name + " failed during the command (" + status.message() +
                         "); the router does not retry a command it does not know, since it "
                         "may have taken effect"),
          std::nullopt);
    }
  }
  Dispatch();
  Pump();
}

void RespClient::FinishWithoutRegion(const CommandPtr& command) {
  if (command->fallback) return Finish(command, std::move(*command->fallback), std::nullopt);
  const std::string& location = front_.options.region_names[command->location];
  if (!command->allowed_names.empty()) {
    // Contract 11: never a region outside the set, however many are healthy.
    const std::string allowed = "no allowed region (" + command->allowed_names +
                                ", by residency) is reachable for this key";
    if (command->tried.empty()) {
      return Finish(
          command,
          ErrorReply(command->version, "CLUSTERDOWN " + allowed + " from clients in " + location),
          std::nullopt);
    }
    return Finish(command,
                  ErrorReply(command->version, "TRYAGAIN " + allowed + ": " + command->errors),
                  std::nullopt);
  }
  if (command->tried.empty()) {
    return Finish(command,
                  ErrorReply(command->version, "CLUSTERDOWN no healthy region for clients in " +
                                                   location + " right now"),
                  std::nullopt);
  }
  Finish(command,
         ErrorReply(command->version, "TRYAGAIN every region tried failed: " + command->errors),
         std::nullopt);
}

void RespClient::Finish(const CommandPtr& command, std::string reply,
                        std::optional<RegionId> region) {
  command->reply = std::move(reply);
  command->done = true;
  request_bytes_ -= command->request.size();
  command->request.clear();
  command->request.shrink_to_fit();
  if (region) state_.last_served = *region;
  (region ? *front_.commands_relayed[*region] : front_.commands_unserved).Increment();
}

// Moves the answered replies at the head into the output and writes it.
void RespClient::Pump() {
  while (!slots_.empty() && slots_.front()->done) {
    output_ += slots_.front()->reply;
    close_after_ = close_after_ || slots_.front()->close_after;
    slots_.pop_front();
  }
  Write();
  Read();  // reading may have paused on a bound
}

void RespClient::Write() {
  if (writing_ || closed_) return;
  if (output_.empty()) {
    if (close_after_ && slots_.empty()) Close();
    return;
  }
  writing_ = true;
  in_write_.swap(output_);
  output_.clear();
  auto on_write = [self = shared_from_this()](boost::system::error_code ec, size_t) {
    self->writing_ = false;
    self->in_write_.clear();
    if (self->closed_) return;
    self->last_activity_ = RespClock::now();
    if (ec) return self->Close();
    self->Write();
    self->Read();
  };
  WithStream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(in_write_), std::move(on_write));
  });
}

}  // namespace meridian::router
