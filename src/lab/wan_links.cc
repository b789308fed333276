#include "lab/wan_links.h"

namespace meridian {

namespace {

// "/proxies/a%3Eb": the proxy's name in a path, its '>' escaped.
std::string ProxyTarget(const std::string& proxy) {
  std::string out = "/proxies/";
  for (char c : proxy)
    out += c == '>' ? std::string("%3E") : std::string(1, c);
  return out;
}

}  // namespace

bool SetWanProxy(const LabContext& context, const std::string& proxy, bool enabled) {
  auto reply = LabCall(context.config.wan.admin.ToString(), "POST", ProxyTarget(proxy),
                       nlohmann::json{{"enabled", enabled}}.dump());
  return reply.ok() && reply->status == 200;
}

int SetWanLinks(const LabContext& context, const std::string& a, const std::string& b,
                bool enabled) {
  int failed = 0;
  for (const std::string& proxy :
       {a + "->" + b, b + "->" + a, "client-" + a + "->" + b, "client-" + b + "->" + a}) {
    if (!SetWanProxy(context, proxy, enabled)) ++failed;
  }
  return failed;
}

}  // namespace meridian
