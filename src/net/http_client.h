// HttpFetch: a tiny blocking HTTP/1.1 client for tests and tools (one request per call).
//
// Opens a connection, sends one request with "Connection: close", reads the whole response and
// closes. The call never takes longer than `timeout` (DeadlineExceeded). Not for hot paths: each
// call builds its own io_context.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "net/http_message.h"

namespace meridian {

struct HttpClientRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, already percent-encoded
  std::string body;
  std::string content_type = "application/json";  // sent only with a body
  std::vector<std::pair<std::string, std::string>> headers;
  // Non-empty: HTTPS (TLS 1.3), verifying the server's certificate against this CA file and
  // against the host of the address (net/tls_context.h); a failed verification is Unavailable.
  std::string tls_ca_file;
};

// Largest response body HttpFetch accepts; tools fetch JSON documents, not bulk data.
inline constexpr size_t kHttpFetchBodyBytesMax = 64 << 20;

// Sends `request` to `address` ("host:port"). Any status code is a successful fetch; transport
// failures are Unavailable, a parse failure Internal, running out of time DeadlineExceeded.
Result<HttpResponse> HttpFetch(const std::string& address, const HttpClientRequest& request,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace meridian
