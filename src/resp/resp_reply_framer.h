// RespReplyFramer: finds where each reply ends in the bytes a Redis server sends, without
// decoding it, so that a proxy (the router, docs/resp.md) can relay replies byte for byte.
//
// The caller keeps the bytes received and not yet relayed in one buffer whose start is the
// start of the current reply. It calls Next(buffer) after every read; kFrame means the first
// frame_bytes() bytes of the buffer are one whole reply, and the next reply starts right after
// them (the caller drops them and calls Next again on what remains).
//
// Contract:
//  1. Every frame RespWriter writes, RESP2 or RESP3, nested to any depth up to max_depth, is one
//     frame: simple strings, errors, integers, doubles, booleans, big numbers and nulls (a line
//     each), bulk strings, blob errors and verbatim strings (length, bytes, CRLF), arrays, sets
//     and pushes (a count, then that many frames), maps (twice the count) and attributes (twice
//     the count, then the reply they annotate). `$-1` and `*-1` are whole frames.
//  2. Scanning resumes where the last call stopped: work is linear in the bytes received, however
//     they are split (a large bulk arriving in pieces is never rescanned). Between calls the
//     buffer may only grow at its end, except after kFrame.
//  3. kError is final until Reset(): error() says what is malformed (an unknown type byte, a bad
//     length, a line, bulk, depth or frame over its limit, a bulk not followed by CRLF). The
//     caller closes the connection: its byte stream can no longer be trusted.
//  4. The framer never reads past the end of the buffer it is given and allocates only to grow
//     its stack of open aggregates (at most max_depth entries).
// Streamed strings and aggregates (`$?`, `*?`) are not accepted: Meridian's regions never send
// them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

struct RespReplyFramerOptions {
  // Longest bulk string: redis-server's proto-max-bulk-len default.
  size_t max_bulk_bytes = size_t{512} << 20;
  // Longest line (a simple string, an error, a number): a region's longest error is a few
  // hundred bytes; 64 KiB leaves room and bounds the search for CRLF in a runaway stream.
  size_t max_line_bytes = size_t{64} << 10;
  // Deepest nesting of aggregates: Meridian's replies nest two deep (HGETALL in RESP2 is flat);
  // 64 is far beyond any real reply and bounds the stack.
  size_t max_depth = 64;
  // Largest whole reply: the router's cap, as its HTTP pool caps a region's response body.
  size_t max_frame_bytes = size_t{64} << 20;
};

class RespReplyFramer {
 public:
  enum class Outcome { kNeedMore, kFrame, kError };

  explicit RespReplyFramer(RespReplyFramerOptions options = {});

  // Scans `buffer` (the current reply's bytes so far) from where the last call stopped.
  [[nodiscard]] Outcome Next(std::string_view buffer);
  // REQUIRES: the last Next() returned kFrame. The framer is already reset for the next reply.
  size_t frame_bytes() const { return frame_bytes_; }
  // INVALID_ARGUMENT saying what is malformed once Next() returned kError; OK before.
  const Status& error() const { return error_; }
  // Forgets everything: the next call starts a new reply at buffer[0].
  void Reset();

 private:
  enum class Step : uint8_t { kNeedMore, kDone, kError };

  // Reads one element header at pos_ (a line, a bulk length or an aggregate count); advances pos_
  // past what it could read.
  Step ReadElement(std::string_view buffer);
  // Finds the CRLF ending the line that starts at line_start_; on kDone sets *line (without it).
  Step ReadLine(std::string_view buffer, std::string_view* line);
  // One element completed: pops every aggregate it completes.
  void ElementDone();
  Step Fail(std::string message);

  const RespReplyFramerOptions options_;
  size_t pos_ = 0;           // next byte to read
  size_t line_start_ = 0;    // start of the line being read
  size_t scan_from_ = 0;     // where the search for the line's '\n' resumes
  int64_t bulk_bytes_ = -1;  // >= 0 while skipping a bulk's bytes and its CRLF (starting at pos_)
  std::vector<uint64_t> open_;  // elements still due in each open aggregate, innermost last
  bool done_ = false;
  size_t frame_bytes_ = 0;
  Status error_;
};

}  // namespace meridian
