// Region control through the demo supervisor (region_control.h).
#include "lab/region_control.h"

namespace meridian {

bool ControlRegion(const LabContext& context, const std::string& region,
                   const std::string& action) {
  auto reply = LabCall(context.demo_control, "POST", "/processes/" + region + "/" + action, "", {},
                       std::chrono::seconds(60));
  return reply.ok() && (reply->status == 200 || (action == "restart" && reply->status == 409));
}

bool WaitRegionHealthy(const LabContext& context, size_t region,
                       std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return LabHealthStatus(context.region_http[region]) == "ok"; }, timeout);
}

}  // namespace meridian
