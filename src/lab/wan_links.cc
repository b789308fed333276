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

int SetWanLinks(const LabContext& context, const std::string& a, const std::string& b,
                bool enabled) {
  int failed = 0;
  const std::string admin = context.config.wan.admin.ToString();
  for (const std::string& proxy :
       {a + "->" + b, b + "->" + a, "client-" + a + "->" + b, "client-" + b + "->" + a}) {
    auto reply =
        LabCall(admin, "POST", ProxyTarget(proxy), nlohmann::json{{"enabled", enabled}}.dump());
    if (!reply.ok() || reply->status != 200) ++failed;
  }
  return failed;
}

}  // namespace meridian
