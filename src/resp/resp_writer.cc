#include "resp/resp_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "base/assert.h"

namespace meridian {
namespace {

constexpr std::string_view kCrlf = "\r\n";

// `<type><integer>\r\n` from a stack buffer: a type byte, at most 20 characters of an int64 or
// uint64, and CRLF.
template <typename Integer>
void AppendNumberLine(std::string* out, char type, Integer value) {
  char line[1 + 20 + 2];
  line[0] = type;
  char* end = std::to_chars(line + 1, line + sizeof(line) - 2, value).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out->append(line, static_cast<size_t>(end - line));
}

}  // namespace

void RespWriter::WriteLine(char type, std::string_view text) {
  const size_t start = out_->size();
  out_->push_back(type);
  out_->append(text);
  std::replace_if(
      out_->begin() + static_cast<std::ptrdiff_t>(start) + 1, out_->end(),
      [](char c) { return c == '\r' || c == '\n'; }, ' ');
  out_->append(kCrlf);
}

void RespWriter::WriteHeader(char type, uint64_t count) {
  AppendNumberLine(out_, type, count);
}

void RespWriter::WriteSimpleString(std::string_view text) {
  WriteLine('+', text);
}

void RespWriter::WriteError(std::string_view message) {
  WriteLine('-', message);
}

void RespWriter::WriteInteger(int64_t value) {
  AppendNumberLine(out_, ':', value);
}

void RespWriter::WriteBulk(std::string_view bytes) {
  WriteHeader('$', bytes.size());
  out_->append(bytes);
  out_->append(kCrlf);
}

void RespWriter::WriteNull() {
  out_->append(version_ == RespVersion::kResp3 ? "_\r\n" : "$-1\r\n");
}

void RespWriter::WriteNullArray() {
  out_->append(version_ == RespVersion::kResp3 ? "_\r\n" : "*-1\r\n");
}

void RespWriter::WriteArrayHeader(size_t count) {
  WriteHeader('*', count);
}

void RespWriter::WriteMapHeader(size_t pairs) {
  if (version_ == RespVersion::kResp3) {
    WriteHeader('%', pairs);
  } else {
    WriteHeader('*', uint64_t{2} * pairs);
  }
}

void RespWriter::WriteSetHeader(size_t count) {
  WriteHeader(version_ == RespVersion::kResp3 ? '~' : '*', count);
}

void RespWriter::WriteDouble(double value) {
  // The shortest round-trip form; to_chars spells infinities "inf" / "-inf" already, and NaN's
  // sign means nothing to a client.
  char text[32];  // the longest shortest form, "-2.2250738585072014e-308", is 24 characters
  std::string_view formatted = "nan";
  if (!std::isnan(value)) {
    const char* end = std::to_chars(text, text + sizeof(text), value).ptr;
    formatted = std::string_view(text, static_cast<size_t>(end - text));
  }
  if (version_ == RespVersion::kResp3) {
    WriteLine(',', formatted);
  } else {
    WriteBulk(formatted);
  }
}

void RespWriter::WriteBoolean(bool value) {
  if (version_ == RespVersion::kResp3) {
    out_->append(value ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(value ? ":1\r\n" : ":0\r\n");
  }
}

void RespWriter::WriteVerbatim(std::string_view format, std::string_view text) {
  MERIDIAN_ASSERT(format.size() == 3);
  if (version_ != RespVersion::kResp3) {
    WriteBulk(text);
    return;
  }
  WriteHeader('=', format.size() + 1 + text.size());
  out_->append(format);
  out_->push_back(':');
  out_->append(text);
  out_->append(kCrlf);
}

std::string EncodeCommand(const std::vector<std::string>& args) {
  std::string out;
  RespWriter writer(&out);
  writer.WriteArrayHeader(args.size());
  for (const std::string& arg : args)
    writer.WriteBulk(arg);
  return out;
}

}  // namespace meridian
