// HttpRequest / HttpResponse: plain values exchanged between HttpServer (or HttpFetch) and the
// code that serves or sends them, plus the pure helpers that decode targets.
//
// No Boost here: handlers and their tests see only these structs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace meridian {

// Set on an answer served by a region that has not caught up with its peers since it started:
// it may miss writes made elsewhere. The value says why, for people.
inline constexpr std::string_view kStaleHeader = "X-Meridian-Stale";

using HttpFieldMap = std::map<std::string, std::string, std::less<>>;

struct HttpRequest {
  std::string method;    // as sent, e.g. "GET"
  std::string target;    // raw request target, e.g. "/proxies/us-%3Eeu?verbose=1"
  std::string path;      // target up to '?', still percent-encoded (see SplitPath)
  HttpFieldMap query;    // decoded; a repeated key never gets here (ParseQuery refuses it)
  HttpFieldMap headers;  // lower-case names; repeated fields joined with ", "
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412"

  // The value of header `name` (lower-case), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra header fields. Content-Length, Content-Type, Server and Connection are set by the
  // server and must not be repeated here.
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
  // The error shape every Meridian server answers with:
  // {"error": {"code": "invalid_argument", "message": "..."}}. Bytes outside printable ASCII in
  // `message` are escaped, so a client's bytes quoted in it cannot break the JSON.
  static HttpResponse Error(int status, std::string_view code, std::string_view message);
};

// Sends the response for one request. May be called from any thread, at most once; later calls
// are ignored. If every copy is destroyed without a call, the client gets a 500.
using HttpResponder = std::function<void(HttpResponse)>;
// Serves one request. Runs on a server I/O thread, so it must not block: work that waits (a
// read that waits for replication, a forwarded call) keeps the responder and calls it later.
using HttpHandler = std::function<void(HttpRequest, HttpResponder)>;

// Decodes %XX escapes; with plus_as_space, '+' becomes ' ' (query strings). nullopt when an
// escape is malformed.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// "a=1&b=x%20y&flag" -> {a: "1", b: "x y", flag: ""}. InvalidArgument naming the problem on a
// malformed escape or a repeated parameter ("by=1&by=2" would otherwise be a silent choice).
Result<HttpFieldMap> ParseQuery(std::string_view query);

// "/proxies/us-%3Eeu/toxics" -> {"proxies", "us->eu", "toxics"}; empty segments are dropped.
// nullopt on a malformed escape.
std::optional<std::vector<std::string>> SplitPath(std::string_view path);

}  // namespace meridian
