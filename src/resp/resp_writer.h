// RespWriter: encodes replies in RESP2, or in RESP3 once the client has said HELLO 3.
//
// A writer appends to a std::string the caller owns (the connection's output buffer), so a pass
// over pipelined commands builds all their replies in one buffer and writes it with one syscall.
// The writer itself is a pointer and a version; make one per pass or keep one per connection.
//
// Contract:
//  1. Each Write* appends exactly one frame (or, for the *Header calls, the header of one
//     aggregate, whose elements the caller then writes). It never allocates except to grow the
//     output string, and formats numbers with std::to_chars.
//  2. Types RESP2 lacks are written as redis-server writes them to a RESP2 client: a map as a
//     flat array of 2N elements, a set as an array, a double as a bulk string, a boolean as the
//     integer 1 or 0, a verbatim string as a bulk string, a RESP3 null as `$-1` or `*-1`.
//  3. Whatever the caller passes, the output stays well-formed: CR and LF inside a simple string
//     or an error become spaces, as redis-server's addReplyErrorFormat does (a bulk string
//     carries any bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace meridian {

enum class RespVersion : uint8_t { kResp2 = 2, kResp3 = 3 };

class RespWriter {
 public:
  // REQUIRES: out is not null and outlives the writer.
  explicit RespWriter(std::string* out, RespVersion version = RespVersion::kResp2)
      : out_(out), version_(version) {}

  RespVersion version() const { return version_; }
  // After HELLO 3 (or HELLO 2): the replies that follow use that version.
  void set_version(RespVersion version) { version_ = version; }
  std::string& out() { return *out_; }

  // `+text`: status replies such as OK, PONG, QUEUED.
  void WriteSimpleString(std::string_view text);
  // `-message`: the caller passes the code, "ERR unknown command 'x'" or "WRONGTYPE ...".
  void WriteError(std::string_view message);
  // `:value`.
  void WriteInteger(int64_t value);
  // `$len` and the bytes.
  void WriteBulk(std::string_view bytes);
  // A missing value: `$-1` (RESP2) or `_` (RESP3).
  void WriteNull();
  // A missing aggregate (e.g. EXEC after a failed WATCH): `*-1` (RESP2) or `_` (RESP3).
  void WriteNullArray();
  // `*count`; the caller then writes `count` elements.
  void WriteArrayHeader(size_t count);
  // `%pairs` (RESP3) or `*2*pairs` (RESP2); the caller then writes key, value, key, value...
  void WriteMapHeader(size_t pairs);
  // `~count` (RESP3) or `*count` (RESP2).
  void WriteSetHeader(size_t count);
  // `,value` (RESP3) or a bulk string (RESP2), in the shortest text that reads back as the same
  // double; infinities as "inf" and "-inf", NaN as "nan".
  void WriteDouble(double value);
  // `#t` / `#f` (RESP3) or `:1` / `:0` (RESP2).
  void WriteBoolean(bool value);
  // `=len` and "fmt:text" (RESP3), or a bulk string of text (RESP2). REQUIRES: format is three
  // bytes, e.g. "txt" or "mkd".
  void WriteVerbatim(std::string_view format, std::string_view text);

 private:
  void WriteLine(char type, std::string_view text);
  void WriteHeader(char type, uint64_t count);

  std::string* out_;
  RespVersion version_;
};

// A client's command as a request frame: an array of bulk strings (what redis-cli sends).
std::string EncodeCommand(const std::vector<std::string>& args);

}  // namespace meridian
