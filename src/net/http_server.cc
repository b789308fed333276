#include "net/http_server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "net/endpoint.h"
#include "net/http_session.h"

namespace meridian {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using net_internal::HttpSession;
using net_internal::HttpSessionOn;
namespace beast = boost::beast;
using net_internal::ServerCore;

namespace {

// Accept failures such as EMFILE repeat at once; waiting a little avoids a hot loop.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);
// After the in-flight grace, closing every socket ends all I/O almost at once; this bounds the
// wait for the threads before the io_context is stopped outright.
constexpr auto kThreadExitWait = std::chrono::seconds(1);
// Refusals answered at once (each lingers up to a second); a flood beyond this is closed without
// an answer, so refusing costs at most this many sockets more than max_connections.
constexpr size_t kRefusingMax = 64;

}  // namespace

struct HttpServer::Impl {
  Impl(std::string a, HttpHandler h, HttpServerOptions o)
      : address(std::move(a)),
        core(std::make_unique<ServerCore>(std::move(h), o)),
        strand(asio::make_strand(core->ioc)),
        acceptor(strand),
        retry_timer(strand) {}

  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);
  Status Listen(const tcp::endpoint& endpoint);
  void RunThread() MERIDIAN_EXCLUDES(core->mu);
  void WaitForDrain() MERIDIAN_EXCLUDES(core->mu);

  const std::string address;
  std::unique_ptr<ServerCore> core;
  asio::strand<asio::io_context::executor_type> strand;  // acceptor and retry timer live here
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  tcp::endpoint bound;
  bool started = false;
  bool stopped = false;
};

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(asio::make_strand(core->ioc),
                        [this](boost::system::error_code ec, tcp::socket socket) {
                          OnAccept(ec, std::move(socket));
                        });
}

void HttpServer::Impl::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    retry_timer.expires_after(kAcceptRetryDelay);
    retry_timer.async_wait([this](boost::system::error_code timer_ec) {
      if (!timer_ec && acceptor.is_open()) DoAccept();
    });
    return;
  }
  std::shared_ptr<HttpSession> session;
  {
    // Registering under the same lock that Stop() sets `stopping` with means Stop() sees every
    // session it has to close.
    MutexLock lock(&core->mu);
    const bool refuse = core->sessions.size() - core->refusing >= core->options.max_connections;
    if (refuse) ++core->connections_refused;
    if (!core->stopping && (!refuse || core->refusing < kRefusingMax)) {
      const uint64_t id = core->next_session_id++;
      // Contract 7: the stream type is chosen here, once per connection.
      if (core->options.tls) {
        session = std::make_shared<HttpSessionOn<net_internal::TlsStream>>(
            *core, id, std::move(socket), core->options.tls.get(), refuse);
      } else {
        session = std::make_shared<HttpSessionOn<beast::tcp_stream>>(*core, id, std::move(socket),
                                                                     nullptr, refuse);
      }
      core->sessions.emplace(id, session);
      if (refuse) ++core->refusing;
    }
  }  // a socket not handed to a session closes here
  if (session) session->Start();
  DoAccept();
}

Status HttpServer::Impl::Listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  const auto fail = [&](const char* step) {
    return Unavailable("http server " + address + ": " + step + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  bound = acceptor.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  return Status::Ok();
}

void HttpServer::Impl::RunThread() {
  for (;;) {
    try {
      core->ioc.run();
      break;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "http server %s: I/O thread caught: %s\n", address.c_str(), e.what());
    }
  }
  MutexLock lock(&core->mu);
  --core->threads_running;
  core->changed.SignalAll();
}

HttpServer::HttpServer(std::string address, HttpHandler handler, HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(address), std::move(handler), options)) {}

HttpServer::~HttpServer() {
  Stop();
}

Status HttpServer::Start() {
  MERIDIAN_ASSERT(!impl_->started);
  const bool external = impl_->core->options.io_context != nullptr;
  MERIDIAN_ASSERT(external || impl_->core->options.threads >= 1);
  Result<tcp::endpoint> endpoint = ResolveEndpoint(impl_->address);
  if (!endpoint.ok()) return endpoint.status();
  MERIDIAN_RETURN_IF_ERROR(impl_->Listen(*endpoint));
  impl_->started = true;
  impl_->DoAccept();
  if (external) return Status::Ok();
  impl_->work.emplace(impl_->core->ioc.get_executor());
  const int threads = impl_->core->options.threads;
  {
    MutexLock lock(&impl_->core->mu);
    impl_->core->threads_running = threads;
  }
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->RunThread(); });
  }
  return Status::Ok();
}

void HttpServer::Impl::WaitForDrain() {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(core->options.stop_grace_ms);
  MutexLock lock(&core->mu);
  while (core->in_flight != 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    core->changed.WaitFor(&core->mu, deadline - now);
  }
}

void HttpServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  ServerCore& core = *impl.core;
  {
    MutexLock lock(&core.mu);
    core.stopping = true;
  }
  asio::post(impl.strand, [&impl] {
    boost::system::error_code ignored;
    impl.acceptor.close(ignored);
    impl.retry_timer.cancel();
  });
  impl.WaitForDrain();
  {
    MutexLock lock(&core.gate->mu);
    core.gate->open = false;
  }
  std::map<uint64_t, std::shared_ptr<HttpSession>> sessions;
  {
    MutexLock lock(&core.mu);
    sessions = core.sessions;
  }
  for (auto& [id, session] : sessions) {
    session->Close();
  }
  sessions.clear();
  impl.work.reset();
  if (core.options.io_context == nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + kThreadExitWait;
    MutexLock lock(&core.mu);
    while (core.threads_running != 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      core.changed.WaitFor(&core.mu, deadline - now);
    }
    if (core.threads_running != 0) core.ioc.stop();
  }
  for (std::thread& thread : impl.threads) {
    thread.join();
  }
  std::map<uint64_t, std::shared_ptr<HttpSession>> leftover;
  {
    MutexLock lock(&core.mu);
    leftover.swap(core.sessions);
  }
}

uint16_t HttpServer::port() const {
  MERIDIAN_ASSERT(impl_->started);
  return impl_->bound.port();
}

uint64_t HttpServer::connections_refused() const {
  MutexLock lock(&impl_->core->mu);
  return impl_->core->connections_refused;
}

const TlsHandshakeFailures& HttpServer::tls_handshake_failures() const {
  return impl_->core->tls_handshake_failures;
}

uint64_t HttpServer::tls_handshakes_failed() const {
  return impl_->core->tls_handshake_failures.Total();
}

std::string HttpServer::address() const {
  MERIDIAN_ASSERT(impl_->started);
  return EndpointToString(impl_->bound);
}

}  // namespace meridian
