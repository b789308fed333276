// Subject patterns: how a key names the subject (a person) its data belongs to, e.g.
// "user:{subject}:" (src/node/subject_vault.h; the config's `subjects:` section). Pure strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

inline constexpr size_t kSubjectBytesMax = 128;

// "user:{subject}:" -> prefix "user:", suffix ":". The suffix ends the subject id (it may be
// empty only at the end of a pattern, then the subject runs to the key's end).
struct SubjectPattern {
  std::string prefix;
  std::string suffix;
  bool operator==(const SubjectPattern&) const = default;
};
Result<SubjectPattern> ParseSubjectPattern(std::string_view text);
std::string FormatSubjectPattern(const SubjectPattern& pattern);
// A subject id: non-empty, at most kSubjectBytesMax bytes, no NUL.
Status CheckSubjectId(std::string_view subject);
// The subject `key` belongs to under the first pattern that names one, or nullopt.
std::optional<std::string> SubjectOfKey(const std::vector<SubjectPattern>& patterns,
                                        std::string_view key);
// The start of the subject's keys under each pattern ("user:alice:"), for residency lookups.
std::vector<std::string> SubjectKeyPrefixes(const std::vector<SubjectPattern>& patterns,
                                            std::string_view subject);

}  // namespace meridian
