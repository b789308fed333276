// Reading an erased subject's keys back (erasure_verify.h).
#include "lab/erasure_verify.h"

#include "lab/lab_context.h"

namespace meridian {
namespace {

// "" when the key answered 410, else what it answered.
std::string ReadGone(const std::string& address, const ResidencyWrite& key) {
  auto reply =
      LabCall(address, "GET", std::string("/") + ResidencyClassName(key.kind) + "/" + key.key);
  if (!reply.ok()) return reply.status().ToString();
  if (reply->status == 410) return "";
  return "HTTP " + std::to_string(reply->status);
}

}  // namespace

GoneCheck CheckGone(const std::string& address, const std::vector<ResidencyWrite>& keys) {
  GoneCheck check;
  for (const ResidencyWrite& key : keys) {
    ++check.checked;
    const std::string other = ReadGone(address, key);
    if (other.empty()) {
      ++check.gone;
    } else if (check.first_other.empty()) {
      check.first_other = std::string(ResidencyClassName(key.kind)) + " " + key.key + ": " + other;
    }
  }
  return check;
}

std::vector<ResidencyWrite> NotYetGone(const std::string& address,
                                       const std::vector<ResidencyWrite>& keys) {
  std::vector<ResidencyWrite> pending;
  for (const ResidencyWrite& key : keys) {
    if (!ReadGone(address, key).empty()) pending.push_back(key);
  }
  return pending;
}

}  // namespace meridian
