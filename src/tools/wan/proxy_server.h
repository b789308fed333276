// ProxyServer: one named WAN link ("us->eu"): a listener that forwards each accepted connection
// to the upstream address through a ProxyConnection, under the link's current toxics.
//
// Invariants:
//  1. The shape (enabled + toxics) is replaced as a whole under mu_, and connections read an
//     immutable snapshot per chunk, so a change applies to every byte read after it.
//  2. Every live connection is in connections_; it leaves when it closes (Forget).
//  3. At most kConnectionsPerProxyMax connections; further accepts are closed at once.
//
// Thread-safety: the admin methods may be called from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "tools/wan/toxic.h"

namespace meridian::wan {

class ProxyConnection;

// A region opens a few replication streams and the router a pool per region; a thousand
// connections on one link means a leak, and refusing them keeps file descriptors for the rest.
inline constexpr size_t kConnectionsPerProxyMax = 1024;

struct ProxySpec {
  std::string name;                    // "us->eu"
  std::string listen;                  // "127.0.0.1:9001"; port 0 picks one (tests)
  std::string upstream;                // "127.0.0.1:7202"
  std::vector<Toxic> baseline_toxics;  // restored by Reset(); the config's latency matrix
};

// What one link carried, per direction (index: ToxicStream, upstream 0, downstream 1), counted
// by its connections on their strands and read by /metrics (wan_metrics.h): relaxed atomic
// totals, no ordering between them.
struct LinkTraffic {
  std::array<std::atomic<uint64_t>, 2> bytes_forwarded{};
  std::array<std::atomic<uint64_t>, 2> chunks_forwarded{};         // writes of a chunk read as one
  std::array<std::atomic<uint64_t>, 2> bytes_dropped_timeout{};    // by a timeout toxic
  std::array<std::atomic<uint64_t>, 2> bytes_dropped_partition{};  // queued or read during a cut
};

// A copy of LinkTraffic at one moment.
struct TrafficSnapshot {
  std::array<uint64_t, 2> bytes_forwarded{};
  std::array<uint64_t, 2> chunks_forwarded{};
  std::array<uint64_t, 2> bytes_dropped_timeout{};
  std::array<uint64_t, 2> bytes_dropped_partition{};
};

struct ProxyShape {
  bool enabled = true;
  std::vector<Toxic> toxics;
};

struct ProxyInfo {
  std::string name;
  std::string listen;  // the bound address
  std::string upstream;
  bool enabled = true;
  std::vector<Toxic> toxics;
  size_t connections = 0;
  TrafficSnapshot traffic;
};

class ProxyServer {
 public:
  ProxyServer(boost::asio::io_context& ioc, ProxySpec spec, uint64_t seed);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Resolves the addresses and binds the listener (Unavailable if the port is taken).
  Status Listen();
  // Starts the accept loop. REQUIRES: Listen() succeeded.
  void StartAccepting();
  // Stops accepting and resets every connection (posted; runs on the I/O threads).
  void Shutdown();

  const std::string& name() const { return spec_.name; }
  ProxyInfo Info() const;
  // Disabling cuts the link; enabling heals it (see ProxyConnection, invariant 4).
  void SetEnabled(bool enabled);
  Status AddToxic(Toxic toxic);               // AlreadyExists if the name is taken
  Status ReplaceToxic(Toxic toxic);           // NotFound if no toxic has its name
  Status RemoveToxic(std::string_view name);  // NotFound
  std::optional<Toxic> FindToxic(std::string_view name) const;
  // Back to the spec: enabled, baseline toxics only.
  void Reset();

  // For ProxyConnection.
  std::shared_ptr<const ProxyShape> Shape() const;
  LinkTraffic& traffic() { return traffic_; }
  void Forget(uint64_t connection_id);

 private:
  using ConnectionList = std::vector<std::shared_ptr<ProxyConnection>>;
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  void DoAccept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket, Strand strand);
  // REQUIRES: mu_ held. Publishes a new shape; returns the connections to notify.
  ConnectionList PublishLocked(bool enabled, std::vector<Toxic> toxics) MERIDIAN_REQUIRES(mu_);
  static void NotifyToxicsChanged(const ConnectionList& connections);

  boost::asio::io_context& ioc_;
  const ProxySpec spec_;
  const uint64_t seed_;
  Strand strand_;  // the acceptor's
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint upstream_;
  std::string bound_;
  LinkTraffic traffic_;

  mutable Mutex mu_;
  std::shared_ptr<const ProxyShape> shape_ MERIDIAN_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<ProxyConnection>> connections_ MERIDIAN_GUARDED_BY(mu_);
  uint64_t next_connection_id_ MERIDIAN_GUARDED_BY(mu_) = 0;
  bool shutting_down_ MERIDIAN_GUARDED_BY(mu_) = false;
};

}  // namespace meridian::wan
