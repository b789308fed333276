#include "gen/resp_pool.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/assert.h"
#include "gen/resp_request.h"

namespace meridian {

namespace asio = boost::asio;

RespPool::RespPool(asio::io_context& io, const asio::ip::tcp::endpoint& endpoint,
                   const RespPoolOptions& options)
    : options_(options), strand_(asio::make_strand(io)) {
  MERIDIAN_ASSERT(options_.connections_max >= 1);
  router::RespUpstreamOptions upstream;
  upstream.auth_key = options_.auth_key;
  // Connections open lazily, on their first request (RespUpstream::Send).
  for (size_t i = 0; i < options_.connections_max; ++i) {
    connections_.push_back(std::make_shared<router::RespUpstream>(
        strand_, endpoint, "resp " + endpoint.address().to_string(), RespVersion::kResp2,
        upstream));
  }
}

void RespPool::Send(std::string request, PoolCallback callback) {
  // The upstreams live on a strand of the shard's io_context; the shard calls from its timer's
  // handlers, which run on the same single thread but outside the strand, so this hops on to it.
  asio::dispatch(strand_, [this, request = std::move(request),
                           callback = std::move(callback)]() mutable {
    const uint64_t invoke_ns = SteadyNowNs();
    auto least = std::min_element(
        connections_.begin(), connections_.end(),
        [](const auto& a, const auto& b) { return a->in_flight() < b->in_flight(); });
    const auto deadline = router::RespClock::now() + std::chrono::milliseconds(options_.timeout_ms);
    (*least)->Send(request, deadline,
                   [invoke_ns, callback = std::move(callback)](Result<std::string> reply) {
                     PoolResponse response;
                     response.invoke_ns = invoke_ns;
                     if (!reply.ok()) {
                       response.error = reply.status().code() == StatusCode::kDeadlineExceeded
                                            ? std::string("timeout")
                                            : "unavailable: " + reply.status().message();
                     } else if (std::string code = RespErrorCode(*reply); !code.empty()) {
                       response.error = std::move(code);
                       response.body = std::move(*reply);
                     } else {
                       response.status = 200;
                       response.body = std::move(*reply);
                     }
                     callback(std::move(response));
                   });
  });
}

void RespPool::CloseIdle() {
  asio::dispatch(strand_, [this] {
    for (const auto& connection : connections_) {
      if (connection->in_flight() == 0) connection->Abort(Unavailable("the run is over"));
    }
  });
}

}  // namespace meridian
