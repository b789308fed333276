// Router: `meridian router`, the geo-router in front of the regions (DESIGN.md section 1).
//
// A client states its location (X-Client-Region, else the router's own); each request goes to
// the nearest healthy region for that location by measured RTT and, when that region fails or
// cannot serve it, to the next nearest, each region at most once. Routing decisions live in pure
// code (HealthTable, forward_policy.h); this class is the I/O shell around them.
//
// Contract:
//  1. Every (location, region) path is probed with GET /healthz every health_interval_ms through
//     the topology's dial address; at most one probe per path is in flight.
//  2. A path that fails, by probe or by forward, is marked down at once, and the forwards in
//     flight on it are aborted and retried elsewhere: a killed or cut-off region is routed around
//     within about two probe intervals, without waiting for forward timeouts.
//  3. Writes carry an Idempotency-Key on every attempt (forward_policy.h rule 1); the response
//     names the region that served it (X-Meridian-Region).
//  4. GET /router/status (JSON) and GET /router/metrics (Prometheus text) are the router's own;
//     every other request is forwarded.
//  6. With options.resp_address set, Redis-protocol clients are served there too (resp_front.h),
//     routed by the same health table; a path's failure aborts its RESP commands in flight too.
//  5. Stop() stops accepting, lets in-flight requests finish within the HTTP server's grace,
//     aborts what is left, and joins every thread. No thread busy-waits.
//
// Threads: options.threads run the listening side (HttpServer) and as many the upstream side;
// a request never holds a thread while it waits for a region.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "router/router_options.h"

namespace meridian::router {

class Router {
 public:
  // REQUIRES: `topology` satisfies router_options.h's invariants; options.location names one of
  // its regions; options.threads >= 1; options.health_interval_ms >= 1.
  Router(RouterTopology topology, RouterOptions options);
  ~Router();  // Stop()s
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Resolves every dial address, starts probing and listens on options.http_address (and
  // options.resp_address when set). InvalidArgument / Unavailable with the reason when an address
  // cannot be resolved or bound, or a RESP listener is asked for without the regions' resp_dial.
  // REQUIRES: not started before.
  Status Start();
  // Idempotent; contract 5.
  void Stop();

  // "host:port" the router listens on (the real port when asked for port 0).
  // REQUIRES: Start() succeeded.
  std::string address() const;
  // The same for its RESP listener. REQUIRES: Start() succeeded with options.resp_address set.
  std::string resp_address() const;

  // Blocks until every path has completed one probe (answered or failed), or `timeout` passes;
  // returns whether it happened. Lets `meridian router` and tests start routing on knowledge.
  bool WaitUntilProbed(std::chrono::milliseconds timeout);

  // One line per region, as seen from the router's location: "eu: healthy, rtt 81.2 ms" or
  // "eu: down (probe: ... Connection refused)". For logs.
  std::string Summary() const;

  // The bodies of GET /router/status and GET /router/metrics.
  std::string StatusJson() const;
  std::string MetricsText() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::router
