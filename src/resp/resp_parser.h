// RespParser: turns the bytes a Redis client sends into commands, incrementally and without I/O.
//
// The connection's event loop appends what it reads (Append, or PrepareAppend + CommitAppend to
// read straight into the buffer), calls Next() until it answers kNeedMore, runs each command, then
// calls Compact(). Both request forms of redis-server are accepted: multibulk
// (`*N\r\n$len\r\n<len bytes>\r\n...`, what every client library sends) and inline (a line of
// words, what telnet and redis-cli's inline mode send, quoted as sds.c's sdssplitargs reads them).
// The first byte of a request picks the form: '*' is multibulk, anything else inline. Requests are
// the same in RESP2 and RESP3; only replies differ (resp_writer.h).
//
// Contract:
//  1. kCommand: args() holds 1 to max_args arguments, each at most max_bulk_bytes long, viewing
//     the parser's buffer. The span is valid until the next call to Next(); the bytes it views
//     until the next Append, PrepareAppend or Compact, so one pass can run every pipelined command
//     of a read before compacting. Inline arguments are unescaped in place in the buffer.
//  2. kNeedMore: no complete command follows the ones returned. Empty requests (`*0`, `*-1`, a
//     blank inline line) are consumed without a command, as redis-server skips them.
//  3. kError is final: error() is INVALID_ARGUMENT whose message is the reply to send, in
//     redis-server's words ("ERR Protocol error: invalid bulk length"), and every later Next()
//     answers kError again. The caller sends the reply and closes the connection, as Redis does.
//     Commands returned before the error were whole and valid.
//  4. The outcomes depend only on the bytes and on set_authenticated() between commands, never on
//     how the bytes were split between appends or when Compact ran (resp_fuzz.cc checks this
//     against a whole-buffer reference decoder).
//  5. Work and memory are linear in the bytes appended: parsing resumes where it stopped (a large
//     bulk arriving in pieces is never rescanned), a declared length reserves nothing, and the
//     buffer moves bytes only when the move is paid for by the bytes it frees.
//
// Where this parser is stricter than redis-server 7 (Redis's own answer can depend on how reads
// split a request; this one's cannot, by contract 4):
//  - A length line must be `<integer>\r\n`, and a bulk must be followed by "\r\n". Redis skips
//    the two bytes unchecked, so a malformed request desynchronises rather than fails.
//  - A length line longer than 20 characters (no int64 is longer) is refused as soon as 21 bytes
//    are buffered; Redis waits for 64 KiB and then says "too big mbulk count string".
//  - An inline line longer than max_inline_bytes is refused even when its newline came in the
//    same read (Redis checks the length only while the newline is missing), and so is an inline
//    request with more than max_args words or a word longer than max_bulk_bytes.
//  - max_command_bytes bounds a whole multibulk request, which Redis bounds only by its query
//    buffer limit (client-query-buffer-limit, 1 GiB), by closing the connection without a reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

// Every limit of the parser, each with the reason for its default.
struct RespParserOptions {
  // Longest bulk argument: redis-server's proto-max-bulk-len default. The region server passes
  // its own value cap plus room for a key, so an oversized value is refused before it is
  // buffered.
  size_t max_bulk_bytes = size_t{512} << 20;
  // Most arguments in one command: redis-server's limit before 7.0 (1024*1024). An MSET of a
  // million keys is already beyond what one run-to-completion step should take.
  size_t max_args = size_t{1} << 20;
  // Longest inline line, terminator excluded: redis-server's PROTO_INLINE_MAX_SIZE. Inline
  // requests come from people at a terminal; 64 KiB is far beyond what they type.
  size_t max_inline_bytes = size_t{64} << 10;
  // Largest multibulk request, headers included: redis-server's client-query-buffer-limit
  // default. Without it a request could declare max_args bulks of max_bulk_bytes each.
  size_t max_command_bytes = size_t{1} << 30;
  // Before set_authenticated(true), as redis-server 6+ does when a password is required: a
  // client that has not authenticated cannot make the server buffer much (10 arguments, 16 KiB
  // bulks; AUTH needs 3 short ones). Redis's wording: "unauthenticated multibulk length".
  size_t max_args_unauthenticated = 10;
  size_t max_bulk_bytes_unauthenticated = 16384;
  // Buffer capacity kept when Compact finds the buffer empty; more is freed, so a connection
  // that once sent a 100 MiB value does not pin 100 MiB while idle. 64 KiB holds several 16 KiB
  // reads of pipelined commands, so a busy connection does not reallocate every pass.
  size_t max_idle_buffer_bytes = size_t{64} << 10;

  // Limits a few bytes wide, so tests and the fuzz target reach every one of them.
  static RespParserOptions ForTest() {
    RespParserOptions options;
    options.max_bulk_bytes = 32;
    options.max_args = 8;
    options.max_inline_bytes = 64;
    options.max_command_bytes = 160;
    options.max_args_unauthenticated = 3;
    options.max_bulk_bytes_unauthenticated = 8;
    options.max_idle_buffer_bytes = 64;
    return options;
  }
};

class RespParser {
 public:
  enum class Outcome { kNeedMore, kCommand, kError };

  explicit RespParser(RespParserOptions options = {});
  ~RespParser();
  RespParser(const RespParser&) = delete;
  RespParser& operator=(const RespParser&) = delete;

  // Copies `bytes` to the end of the buffer. Invalidates the views of returned commands: when
  // the buffer must move to make room, it drops their bytes as Compact would.
  void Append(std::string_view bytes);
  // A writable span of at least `min_bytes` at the end of the buffer, to read() into; then
  // CommitAppend(n) makes the first n bytes written part of the input. Invalidates the views of
  // returned commands, like Append.
  std::span<char> PrepareAppend(size_t min_bytes);
  // REQUIRES: bytes <= the size of the span the last PrepareAppend returned, and no Append,
  // Compact or Next since it.
  void CommitAppend(size_t bytes);

  // The next complete command, "need more bytes", or the protocol error (contract 1-3).
  [[nodiscard]] Outcome Next();
  // REQUIRES: the last Next() returned kCommand.
  std::span<const std::string_view> args() const;
  // INVALID_ARGUMENT with the reply text once Next() has returned kError; OK before.
  const Status& error() const { return error_; }

  // Drops the bytes of returned commands, as far as that is cheap (contract 5). Invalidates
  // their views. Call it after running the commands of a read.
  void Compact();

  // Whether the client has authenticated: until it has, the *_unauthenticated limits apply.
  // Applies to what Next() parses after the call, so a server runs AUTH before asking for the
  // next command. Starts true (no password configured).
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }

  // Bytes held: those of returned commands not yet compacted away, then unparsed input.
  size_t buffered_bytes() const { return size_; }
  // Bytes of returned (or skipped) requests still held (not yet dropped by Compact or by an
  // append that moved the buffer); <= buffered_bytes().
  size_t consumed_bytes() const { return command_start_; }
  // The whole buffer, for tests that check where views point, and its allocated size.
  std::string_view TEST_buffer() const { return {data_.get(), size_}; }
  size_t TEST_capacity() const { return capacity_; }

 private:
  enum class Mode : uint8_t { kIdle, kInline, kMultibulk };
  enum class Step : uint8_t { kNeedMore, kCommand, kSkip, kError };
  enum class Line : uint8_t { kNeedMore, kValid, kInvalid };

  Step ParseMultibulk();
  Step ParseBulks();
  Step ParseInline();
  // Reads a `<integer>\r\n` line starting at `from`; on kValid sets *value and *next (the byte
  // after the line).
  Line ParseLengthLine(size_t from, int64_t* value, size_t* next) const;
  Step EndRequest(size_t next, Step step);
  Step Fail(std::string message);
  // Moves the request in progress to the start of `to` (which may be the buffer itself) and
  // rebases every offset and view into it.
  void MoveLive(char* to);
  void Reallocate(size_t capacity);
  void PoisonTail() const;
  void UnpoisonTail() const;

  const RespParserOptions options_;
  // [0, command_start_) holds returned requests; [command_start_, size_) the request in progress
  // and what follows; [size_, capacity_) is free.
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  size_t command_start_ = 0;
  size_t prepared_bytes_ = 0;  // size of the span the last PrepareAppend returned

  Mode mode_ = Mode::kIdle;
  // Multibulk: the next byte to parse. Inline: where the search for '\n' resumes.
  size_t pos_ = 0;
  size_t bulks_remaining_ = 0;  // multibulk: bulks still to read; 0 before the count line
  int64_t bulk_bytes_ = -1;     // multibulk: length of the bulk being read; -1 before its header
  // The request in progress's arguments so far (multibulk) or the last command's.
  std::vector<std::string_view> args_;
  bool authenticated_ = true;
  Status error_;
};

}  // namespace meridian
