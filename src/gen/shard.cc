#include "gen/shard.h"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

#include "gen/resp_request.h"

namespace meridian {

namespace asio = boost::asio;

namespace {

// Ops one timer wake-up may send before yielding to the I/O it started: a late shard catches up
// in slices instead of starving its own responses.
constexpr int kIssueBatchMax = 256;
// Bytes of history a shard buffers before taking the file lock to write them.
constexpr size_t kHistoryFlushBytes = 64 << 10;

std::string FailureKey(const PoolResponse& response) {
  if (!response.error.empty()) return response.error;
  return std::to_string(response.status);
}

std::chrono::steady_clock::time_point TimeOf(uint64_t steady_ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(steady_ns));
}

}  // namespace

Shard::Shard(const GenOptions& options, const std::vector<asio::ip::tcp::endpoint>& endpoints,
             const std::vector<std::string>& hosts, uint32_t index, uint64_t start_ns,
             const HistoryClock& clock, RunShared* shared)
    : options_(options),
      index_(index),
      start_ns_(start_ns),
      clock_(clock),
      shared_(shared),
      timer_(io_),
      planner_(options.workload) {
  const auto threads = static_cast<size_t>(options.threads);
  in_flight_max_ = std::max<size_t>(1, options.in_flight_max / threads);
  HttpPoolOptions pool_options;
  pool_options.connections_max = std::max<size_t>(1, options.connections_per_target / threads);
  pool_options.timeout_ms = options.timeout_ms;
  RespPoolOptions resp_options;
  resp_options.connections_max = pool_options.connections_max;
  resp_options.timeout_ms = options.timeout_ms;
  resp_options.auth_key = options.api_key;
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (options.protocol == GenProtocol::kResp) {
      resp_pools_.push_back(std::make_unique<RespPool>(io_, endpoints[i], resp_options));
    } else {
      pools_.push_back(std::make_unique<HttpPool>(io_, endpoints[i], hosts[i], pool_options));
    }
  }
}

void Shard::Run() {
  Advance();
  Schedule();
  io_.run();
  FlushHistory(/*force=*/true);
}

void Shard::Stop() {
  asio::post(io_, [this] {
    next_.reset();
    timer_.cancel();
    FinishScheduling();
  });
}

void Shard::Advance() {
  next_.reset();
  while (std::optional<PlannedOp> op = planner_.Next()) {
    if (op->client % static_cast<uint32_t>(options_.threads) == index_) {
      next_ = std::move(op);
      return;
    }
  }
}

void Shard::Schedule() {
  const uint64_t now = SteadyNowNs();
  int issued = 0;
  while (next_ && start_ns_ + next_->intended_ns <= now) {
    if (issued == kIssueBatchMax) {
      asio::post(io_, [this] { Schedule(); });
      return;
    }
    Issue(std::move(*next_));
    Advance();
    ++issued;
  }
  if (!next_) return FinishScheduling();
  timer_.expires_at(TimeOf(start_ns_ + next_->intended_ns));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Schedule();
  });
}

void Shard::FinishScheduling() {
  done_scheduling_ = true;
  for (auto& pool : pools_)
    pool->CloseIdle();  // busy connections are closed by the last completion
  for (auto& pool : resp_pools_)
    pool->CloseIdle();
}

OpStats& Shard::StatsFor(const PlannedOp& op) {
  return stats_[OpStatsKey{op.step, op.op_class, op.kind}];
}

void Shard::Issue(PlannedOp op) {
  OpStats& stats = StatsFor(op);
  ++stats.planned;
  shared_->step_planned[op.step].fetch_add(1, std::memory_order_relaxed);
  if (in_flight_ >= in_flight_max_) return Drop(op, stats);
  ++stats.sent;
  ++in_flight_;
  shared_->sent.fetch_add(1, std::memory_order_relaxed);
  std::string token_sent;
  PoolRequest request = MakeRequest(op, &token_sent);
  const size_t pool = options_.router.empty() ? op.region : 0;  // op moves into the callback
  Send(pool, std::move(request),
       [this, op = std::move(op),
        token_sent = std::move(token_sent)](PoolResponse response) mutable {
         Complete(std::move(op), std::move(response), std::move(token_sent));
       });
}

void Shard::Send(size_t pool, PoolRequest request, PoolCallback callback) {
  if (options_.protocol == GenProtocol::kResp) {
    return resp_pools_[pool]->Send(std::move(request.body), std::move(callback));
  }
  pools_[pool]->Send(std::move(request), std::move(callback));
}

void Shard::Drop(const PlannedOp& op, OpStats& stats) {
  ++stats.dropped;
  shared_->dropped.fetch_add(1, std::memory_order_relaxed);
  shared_->step_dropped[op.step].fetch_add(1, std::memory_order_relaxed);
  OpOutcome outcome;
  outcome.error = "dropped (overload)";
  outcome.intended_ns = outcome.invoke_ns = outcome.complete_ns =
      clock_.ToEpoch(start_ns_ + op.intended_ns);
  RecordHistory(op, outcome);
}

PoolRequest Shard::MakeRequest(const PlannedOp& op, std::string* token_sent) const {
  // Over RESP the command travels as the body; the HTTP fields stay empty (RespPool::Send).
  if (options_.protocol == GenProtocol::kResp) {
    return {{}, {}, EncodeCommand(BuildRespCommand(op)), {}};
  }
  GenRequest built = BuildRequest(op);
  PoolRequest request{std::move(built.method), std::move(built.target), std::move(built.body), {}};
  if (!options_.router.empty()) {
    request.headers.emplace_back("X-Client-Region", options_.targets[op.region].name);
  }
  if (!options_.api_key.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
  }
  if (options_.session && op.kind == OpKind::kRead) {
    auto token = tokens_.find(op.client);
    if (token != tokens_.end()) {
      *token_sent = token->second;
      request.headers.emplace_back("X-Session-Token", token->second);
    }
  }
  if (options_.idempotency_keys && op.kind != OpKind::kRead) {
    request.headers.emplace_back(
        "Idempotency-Key",
        "gen-" + std::to_string(options_.workload.seed) + "-" + std::to_string(op.index));
  }
  return request;
}

void Shard::Complete(PlannedOp op, PoolResponse response, std::string token_sent) {
  const uint64_t now = SteadyNowNs();
  --in_flight_;
  OpStats& stats = StatsFor(op);
  const uint64_t intended = start_ns_ + op.intended_ns;
  const bool ok = response.error.empty() && response.status >= 200 && response.status < 300;
  if (ok) {
    ++stats.ok;
    stats.latency.Record(now > intended ? now - intended : 0);
    shared_->ok.fetch_add(1, std::memory_order_relaxed);
    if (options_.session) RememberToken(op.client, response.body);
  } else {
    ++stats.failures[FailureKey(response)];
    shared_->failed.fetch_add(1, std::memory_order_relaxed);
  }
  shared_->completed.fetch_add(1, std::memory_order_relaxed);
  uint64_t last = shared_->last_complete_ns.load(std::memory_order_relaxed);
  while (last < now && !shared_->last_complete_ns.compare_exchange_weak(last, now)) {
  }
  if (shared_->history_enabled) {
    OpOutcome outcome;
    outcome.sent = true;
    outcome.http_status = response.status;
    outcome.error = std::move(response.error);
    outcome.body = std::move(response.body);
    outcome.intended_ns = clock_.ToEpoch(intended);
    outcome.invoke_ns = clock_.ToEpoch(response.invoke_ns);
    outcome.complete_ns = clock_.ToEpoch(now);
    outcome.session_token_sent = std::move(token_sent);
    outcome.served_by = std::move(response.served_by);
    RecordHistory(op, outcome);
  }
  if (done_scheduling_ && in_flight_ == 0) FinishScheduling();
}

void Shard::RememberToken(uint32_t client, const std::string& body) {
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return;
  auto token = parsed.find("session_token");
  if (token != parsed.end() && token->is_string()) tokens_[client] = token->get<std::string>();
}

void Shard::RecordHistory(const PlannedOp& op, const OpOutcome& outcome) {
  if (!shared_->history_enabled) return;
  history_ += FormatHistoryLine(op, options_.targets[op.region].name, outcome);
  history_ += '\n';
  FlushHistory(/*force=*/false);
}

void Shard::FlushHistory(bool force) {
  if (history_.empty() || (!force && history_.size() < kHistoryFlushBytes)) return;
  {
    MutexLock lock(&shared_->history_mu);
    std::fwrite(history_.data(), 1, history_.size(), shared_->history);
  }
  history_.clear();
}

}  // namespace meridian
