#include "replica/types.h"

namespace meridian {

std::string_view DataClassName(DataClass c) {
  switch (c) {
    case DataClass::kProfile:
      return "profile";
    case DataClass::kCounter:
      return "counter";
    case DataClass::kTags:
      return "tags";
    case DataClass::kRegister:
      return "register";
    case DataClass::kText:
      return "text";
    case DataClass::kStock:
      return "stock";
  }
  return "unknown";
}

std::optional<DataClass> DataClassFromNumber(uint32_t n) {
  for (DataClass c : kAllDataClasses) {
    if (static_cast<uint32_t>(c) == n) return c;
  }
  return std::nullopt;
}

}  // namespace meridian
