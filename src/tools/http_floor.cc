// http_floor: an HTTP server that answers every request at once with a fixed 200 JSON body shaped
// like a region's write answer, and does nothing else. A benchmark baseline, not part of the
// product.
//
// It runs on the same HttpServer (Boost.Beast, one I/O thread by default) as `meridian region`,
// so `meridian gen` driven at it at some rate measures everything in a request's path that is not
// the region's own work: the generator, loopback TCP, HTTP parsing and the scheduling of a
// 2-vCPU guest. scripts/bench-region runs it beside the region at the same rate and pinning; the
// region's figure minus this floor is what the region adds.
//
//   http_floor --listen 127.0.0.1:7199      # until SIGINT/SIGTERM
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "net/http_server.h"
#include "tools/stop_signals.h"

int main(int argc, char** argv) {
  CLI::App app{"Answer every HTTP request with a fixed 200 JSON body (a latency floor baseline)"};
  std::string listen = "127.0.0.1:7199";
  int threads = 1;
  app.add_option("--listen", listen, "host:port to listen on")->capture_default_str();
  app.add_option("--http-threads", threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  meridian::BlockedStopSignals signals;
  // The size and shape of a region's answer to a write, so the bytes on the wire match.
  const std::string body = R"({"version_vector":{"us":1},"session_token":"CgEAEgEB",)"
                           R"("dot":{"region":"us","seq":1},"deduplicated":false})";
  meridian::HttpServerOptions options;
  options.threads = threads;
  meridian::HttpServer server(
      listen,
      [&body](meridian::HttpRequest, meridian::HttpResponder respond) {
        respond(meridian::HttpResponse::Json(200, body));
      },
      options);
  if (meridian::Status started = server.Start(); !started.ok()) {
    std::fprintf(stderr, "http_floor: %s\n", started.ToString().c_str());
    return 1;
  }
  std::printf("http_floor: listening on %s\n", server.address().c_str());
  std::fflush(stdout);
  signals.Wait();
  server.Stop();
  return 0;
}
