// Subject patterns (subject_pattern.h).
#include "base/subject_pattern.h"

namespace meridian {

Result<SubjectPattern> ParseSubjectPattern(std::string_view text) {
  constexpr std::string_view kPlaceholder = "{subject}";
  const size_t at = text.find(kPlaceholder);
  if (at == std::string_view::npos || text.find(kPlaceholder, at + 1) != std::string_view::npos) {
    return InvalidArgument("subject pattern '" + std::string(text) +
                           "' must contain {subject} exactly once");
  }
  SubjectPattern pattern{std::string(text.substr(0, at)),
                         std::string(text.substr(at + kPlaceholder.size()))};
  if (pattern.prefix.empty()) {
    return InvalidArgument("subject pattern '" + std::string(text) +
                           "' must start with a fixed prefix before {subject}");
  }
  return pattern;
}

std::string FormatSubjectPattern(const SubjectPattern& pattern) {
  return pattern.prefix + "{subject}" + pattern.suffix;
}

Status CheckSubjectId(std::string_view subject) {
  if (subject.empty()) return InvalidArgument("subject id is empty");
  if (subject.size() > kSubjectBytesMax) {
    return InvalidArgument("subject id is longer than " + std::to_string(kSubjectBytesMax) +
                           " bytes");
  }
  if (subject.find('\0') != std::string_view::npos) {
    return InvalidArgument("subject id contains a NUL byte");
  }
  return Status::Ok();
}

std::optional<std::string> SubjectOfKey(const std::vector<SubjectPattern>& patterns,
                                        std::string_view key) {
  for (const SubjectPattern& pattern : patterns) {
    if (!key.starts_with(pattern.prefix)) continue;
    std::string_view rest = key.substr(pattern.prefix.size());
    if (!pattern.suffix.empty()) {
      const size_t end = rest.find(pattern.suffix);
      if (end == std::string_view::npos) continue;
      rest = rest.substr(0, end);
    }
    if (CheckSubjectId(rest).ok()) return std::string(rest);
  }
  return std::nullopt;
}

std::vector<std::string> SubjectKeyPrefixes(const std::vector<SubjectPattern>& patterns,
                                            std::string_view subject) {
  std::vector<std::string> out;
  for (const SubjectPattern& pattern : patterns)
    out.push_back(pattern.prefix + std::string(subject) + pattern.suffix);
  return out;
}

}  // namespace meridian
