// libFuzzer target: ParseApiRequest must answer any request with a command or an ApiError, never
// crash or throw, and what it accepts must satisfy contract 2 of http_api.h. Also compiled into
// api_test, which feeds it seeded random and mutated requests (http_api_fuzz_test.cc).
//
// Input layout: byte 0 picks the method; the rest is split at '\n' into path, query string,
// Idempotency-Key, X-Session-Token and body (the body keeps any further newlines).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/base64url.h"
#include "api/http_api.h"
#include "base/utf8.h"

namespace meridian {
namespace {

std::string_view NextLine(std::string_view* rest) {
  const size_t newline = rest->find('\n');
  const std::string_view line = rest->substr(0, newline);
  *rest = newline == std::string_view::npos ? std::string_view() : rest->substr(newline + 1);
  return line;
}

}  // namespace

// Also used by http_api_fuzz_test.cc, to check that its inputs reach every kind of outcome.
HttpRequest FuzzRequestFromBytes(std::string_view bytes) {
  static constexpr std::string_view kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"};
  HttpRequest request;
  if (bytes.empty()) return request;
  request.method = std::string(kMethods[static_cast<uint8_t>(bytes[0]) % 6]);
  std::string_view rest = bytes.substr(1);
  request.path = std::string(NextLine(&rest));
  request.target = request.path;
  if (auto query = ParseQuery(NextLine(&rest)); query.ok()) request.query = std::move(*query);
  const std::string_view idempotency_key = NextLine(&rest);
  if (!idempotency_key.empty()) request.headers["idempotency-key"] = std::string(idempotency_key);
  const std::string_view token = NextLine(&rest);
  if (!token.empty()) request.headers["x-session-token"] = std::string(token);
  request.body = std::string(rest);
  return request;
}

namespace {

bool ValidName(const std::string& text) {
  return !text.empty() && text.size() <= kKeyBytesMax && IsValidUtf8(text);
}

void CheckWrite(const ClientWrite& write) {
  MERIDIAN_ASSERT(ValidName(write.target.key));
  MERIDIAN_ASSERT(write.target.key.find('/') == std::string::npos);
  MERIDIAN_ASSERT(write.idempotency_key.size() <= kIdempotencyKeyBytesMax);
  if (const auto* op = std::get_if<LwwMapOp>(&write.body)) {
    MERIDIAN_ASSERT(op->clear || !op->fields.empty());
    MERIDIAN_ASSERT(op->fields.size() <= kWriteItemsMax);
    for (const auto& [field, value] : op->fields) {
      MERIDIAN_ASSERT(ValidName(field));
      MERIDIAN_ASSERT(!value || value->size() <= kValueBytesMax);
    }
  } else if (const auto* delta = std::get_if<int64_t>(&write.body)) {
    MERIDIAN_ASSERT(*delta != 0 && *delta != INT64_MIN);
  } else if (const auto* tags = std::get_if<TagsWrite>(&write.body)) {
    MERIDIAN_ASSERT(!tags->add.empty() || !tags->remove.empty());
    for (const auto& e : tags->add)
      MERIDIAN_ASSERT(ValidName(e));
    for (const auto& e : tags->remove)
      MERIDIAN_ASSERT(ValidName(e));
  } else if (const auto* value = std::get_if<std::string>(&write.body)) {
    MERIDIAN_ASSERT(value->size() <= kValueBytesMax);
  } else {
    MERIDIAN_ASSERT(std::holds_alternative<KeyDelete>(write.body));
  }
}

}  // namespace
}  // namespace meridian

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meridian;  // NOLINT: the entry point lives outside the namespace
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ApiCommand command = ParseApiRequest(FuzzRequestFromBytes(bytes), ApiOptions{3, ""});
  if (const auto* error = std::get_if<ApiError>(&command)) {
    const int s = error->http_status;
    MERIDIAN_ASSERT(s == 400 || s == 404 || s == 405 || s == 413);
    MERIDIAN_ASSERT(!error->message.empty() && !error->code.empty());
    MERIDIAN_ASSERT((s == 405) == !error->allow.empty());
    MERIDIAN_ASSERT(FormatError(*error).status == s);
  } else if (const auto* write = std::get_if<WriteCommand>(&command)) {
    CheckWrite(write->write);
  } else if (const auto* read = std::get_if<ReadCommand>(&command)) {
    MERIDIAN_ASSERT(ValidName(read->key.key));
    for (RegionId r = 3; read->session && r < kMaxRegions; ++r) {
      MERIDIAN_ASSERT(read->session->Get(r) == 0);
    }
  }
  // The token codec's own round trip, on arbitrary bytes.
  MERIDIAN_ASSERT(Base64UrlDecode(Base64UrlEncode(bytes)) == std::string(bytes));
  return 0;
}
