#include "strong/handle_name.h"

namespace meridian {

Result<std::string> CanonicalHandleName(std::string_view name) {
  if (name.empty()) return InvalidArgument("handle name is empty");
  if (name.size() > kMaxHandleNameBytes) {
    return InvalidArgument("handle name is longer than " + std::to_string(kMaxHandleNameBytes) +
                           " characters");
  }
  std::string canonical;
  canonical.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool allowed =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!allowed) {
      return InvalidArgument("handle name may only contain a-z, 0-9, '_', '.' and '-'");
    }
    canonical.push_back(c);
  }
  return canonical;
}

bool IsCanonicalHandleName(std::string_view name) {
  auto canonical = CanonicalHandleName(name);
  return canonical.ok() && *canonical == name;
}

Status ValidateHandleOwner(std::string_view owner) {
  if (owner.empty()) return InvalidArgument("owner is empty");
  if (owner.size() > kMaxHandleOwnerBytes) {
    return InvalidArgument("owner is longer than " + std::to_string(kMaxHandleOwnerBytes) +
                           " bytes");
  }
  if (owner.find('\0') != std::string_view::npos) return InvalidArgument("owner contains NUL");
  return Status::Ok();
}

}  // namespace meridian
