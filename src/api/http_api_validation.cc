#include "api/http_api_validation.h"

#include <algorithm>
#include <charconv>

#include "base/utf8.h"

namespace meridian::api_internal {
namespace {

// Bytes of client text quoted in an error message: enough to recognise it, never a 1 MiB echo.
constexpr size_t kQuotedBytesMax = 64;

// The deepest nesting of arrays and objects in `text`, stopping once past `limit`. Strings are
// skipped so that brackets inside them do not count.
size_t JsonDepth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

ApiError BadRequest(std::string message) {
  return ApiError{400, "invalid_argument", std::move(message), ""};
}

ApiError TooLarge(std::string message) {
  return ApiError{413, "payload_too_large", std::move(message), ""};
}

std::string Quote(std::string_view text) {
  if (!IsValidUtf8(text)) return "(not valid UTF-8)";
  const size_t shown = Utf8PrefixBytes(text, kQuotedBytesMax);
  return "'" + std::string(text.substr(0, shown)) + (shown < text.size() ? "...'" : "'");
}

std::optional<ApiError> CheckName(std::string_view text, std::string_view what) {
  const std::string name(what);
  if (text.empty()) return BadRequest(name + " is empty");
  if (text.size() > kKeyBytesMax) {
    return BadRequest(name + " is " + std::to_string(text.size()) + " bytes; the limit is " +
                      std::to_string(kKeyBytesMax));
  }
  if (!IsValidUtf8(text)) return BadRequest(name + " is not valid UTF-8");
  return std::nullopt;
}

std::optional<ApiError> CheckKey(std::string_view key) {
  if (auto error = CheckName(key, "key")) return error;
  // A key is one path segment; a '/' (sent as %2F) would make its URL ambiguous.
  if (key.find('/') != std::string_view::npos) return BadRequest("key contains '/'");
  return std::nullopt;
}

std::optional<ApiError> CheckValue(std::string_view value, std::string_view what) {
  if (value.size() > kValueBytesMax) {
    return TooLarge(std::string(what) + " is " + std::to_string(value.size()) +
                    " bytes; the limit is " + std::to_string(kValueBytesMax));
  }
  return std::nullopt;
}

std::optional<ApiError> CheckIdempotencyKey(std::string_view key) {
  bool printable = !key.empty() && key.size() <= kIdempotencyKeyBytesMax;
  for (const char c : key)
    printable = printable && c >= 0x20 && c <= 0x7E;
  if (printable) return std::nullopt;
  return BadRequest("Idempotency-Key must be 1 to " + std::to_string(kIdempotencyKeyBytesMax) +
                    " printable ASCII characters");
}

std::optional<ApiError> ParseJson(std::string_view body, Json* out) {
  if (body.empty()) return BadRequest("request body is empty; expected a JSON object");
  // nlohmann-json parses iteratively, but callers walk the result; bound the depth up front.
  if (JsonDepth(body, kJsonDepthMax) > kJsonDepthMax) {
    return BadRequest("request body nests deeper than " + std::to_string(kJsonDepthMax) +
                      " levels");
  }
  *out = Json::parse(body.begin(), body.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return BadRequest("request body is not valid JSON");
  return std::nullopt;
}

std::optional<uint64_t> ParsePositive(std::string_view text, uint64_t max) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace meridian::api_internal
