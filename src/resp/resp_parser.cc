#include "resp/resp_parser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "resp/resp_inline.h"

// Under AddressSanitizer the free tail of the buffer is poisoned, so a read past the input is
// caught even where it would land inside the allocation (the fuzz target builds this way).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MERIDIAN_RESP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(MERIDIAN_RESP_ASAN)
#define MERIDIAN_RESP_ASAN 1
#endif
#ifdef MERIDIAN_RESP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace meridian {
namespace {

// redis-server's replies, word for word (networking.c).
constexpr std::string_view kInvalidMultibulkLength = "ERR Protocol error: invalid multibulk length";
constexpr std::string_view kInvalidBulkLength = "ERR Protocol error: invalid bulk length";
constexpr std::string_view kUnauthenticatedMultibulkLength =
    "ERR Protocol error: unauthenticated multibulk length";
constexpr std::string_view kUnauthenticatedBulkLength =
    "ERR Protocol error: unauthenticated bulk length";
constexpr std::string_view kUnbalancedQuotes = "ERR Protocol error: unbalanced quotes in request";
constexpr std::string_view kTooBigInlineRequest = "ERR Protocol error: too big inline request";
// Ours, in the same style: Redis has no such check (resp_parser.h, "stricter").
constexpr std::string_view kUnterminatedBulk =
    "ERR Protocol error: bulk string not terminated by CRLF";
constexpr std::string_view kTooBigMultibulkRequest =
    "ERR Protocol error: too big multibulk request";

// The longest integer string2ll (Redis util.c) accepts: "-9223372036854775808".
constexpr size_t kLengthCharsMax = 20;
// The smallest buffer allocated; reads are usually larger and size it themselves.
constexpr size_t kMinBufferBytes = 1024;

// string2ll's grammar: an optional '-', then "0" alone or a digit 1-9 followed by digits, within
// int64. No '+', no leading zeros, no "-0", no blanks.
bool ParseInteger(const char* text, size_t length, int64_t* value) {
  if (length == 0 || length > kLengthCharsMax) return false;
  if (length == 1 && text[0] == '0') {
    *value = 0;
    return true;
  }
  const bool negative = text[0] == '-';
  size_t i = negative ? 1 : 0;
  if (i == length || text[i] < '1' || text[i] > '9') return false;
  uint64_t magnitude = 0;
  for (; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    const auto digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (magnitude > kMax + (negative ? 1 : 0)) return false;
  *value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

std::string ExpectedDollar(char got) {
  // Redis replaces CR and LF in an error with spaces, so the reply stays one line.
  if (got == '\r' || got == '\n') got = ' ';
  std::string message = "ERR Protocol error: expected '$', got ' '";
  message[message.size() - 2] = got;
  return message;
}

void PoisonBytes([[maybe_unused]] const char* begin, [[maybe_unused]] size_t bytes) {
#ifdef MERIDIAN_RESP_ASAN
  if (bytes > 0) ASAN_POISON_MEMORY_REGION(begin, bytes);
#endif
}

void UnpoisonBytes([[maybe_unused]] const char* begin, [[maybe_unused]] size_t bytes) {
#ifdef MERIDIAN_RESP_ASAN
  if (bytes > 0) ASAN_UNPOISON_MEMORY_REGION(begin, bytes);
#endif
}

}  // namespace

RespParser::RespParser(RespParserOptions options) : options_(options) {}

RespParser::~RespParser() {
  UnpoisonBytes(data_.get(), capacity_);
}

void RespParser::Append(std::string_view bytes) {
  const std::span<char> tail = PrepareAppend(bytes.size());
  if (!bytes.empty()) std::memcpy(tail.data(), bytes.data(), bytes.size());
  CommitAppend(bytes.size());
}

std::span<char> RespParser::PrepareAppend(size_t min_bytes) {
  if (capacity_ - size_ < min_bytes) {
    const size_t live = size_ - command_start_;
    // Sliding the request in progress down is paid for by the returned bytes it overwrites;
    // otherwise grow geometrically, which also drops the returned bytes.
    if (live <= command_start_ && capacity_ - live >= min_bytes) {
      MoveLive(data_.get());
      PoisonTail();
    } else {
      Reallocate(std::max({kMinBufferBytes, 2 * capacity_, live + min_bytes}));
    }
  }
  prepared_bytes_ = capacity_ - size_;
  UnpoisonTail();
  return {data_.get() + size_, prepared_bytes_};
}

void RespParser::CommitAppend(size_t bytes) {
  MERIDIAN_ASSERT(bytes <= prepared_bytes_);
  size_ += bytes;
  prepared_bytes_ = 0;
  PoisonTail();
}

RespParser::Outcome RespParser::Next() {
  if (!error_.ok()) return Outcome::kError;
  for (;;) {
    MERIDIAN_ASSERT(command_start_ <= pos_ && pos_ <= size_);
    if (mode_ == Mode::kIdle) {
      args_.clear();
      if (command_start_ == size_) return Outcome::kNeedMore;
      mode_ = data_[command_start_] == '*' ? Mode::kMultibulk : Mode::kInline;
      pos_ = command_start_;
      bulks_remaining_ = 0;
      bulk_bytes_ = -1;
    }
    switch (mode_ == Mode::kInline ? ParseInline() : ParseMultibulk()) {
      case Step::kNeedMore:
        return Outcome::kNeedMore;
      case Step::kCommand:
        return Outcome::kCommand;
      case Step::kError:
        return Outcome::kError;
      case Step::kSkip:
        break;
    }
  }
}

std::span<const std::string_view> RespParser::args() const {
  return args_;
}

RespParser::Line RespParser::ParseLengthLine(size_t from, int64_t* value, size_t* next) const {
  const char* data = data_.get();
  // A valid line has at most kLengthCharsMax characters before its '\r', so 21 bytes without
  // one already decide it, however the rest arrives.
  const size_t window = std::min(size_ - from, kLengthCharsMax + 1);
  size_t cr = from;
  while (cr < from + window && data[cr] != '\r')
    ++cr;
  if (cr == from + window) return window > kLengthCharsMax ? Line::kInvalid : Line::kNeedMore;
  if (cr + 1 == size_) return Line::kNeedMore;
  if (data[cr + 1] != '\n') return Line::kInvalid;
  if (!ParseInteger(data + from, cr - from, value)) return Line::kInvalid;
  *next = cr + 2;
  return Line::kValid;
}

RespParser::Step RespParser::ParseMultibulk() {
  if (bulks_remaining_ == 0) {
    int64_t count = 0;
    size_t next = 0;
    switch (ParseLengthLine(command_start_ + 1, &count, &next)) {
      case Line::kNeedMore:
        return Step::kNeedMore;
      case Line::kInvalid:
        return Fail(std::string(kInvalidMultibulkLength));
      case Line::kValid:
        break;
    }
    if (count <= 0) return EndRequest(next, Step::kSkip);  // Redis skips *0 and *-1 silently
    const auto bulks = static_cast<uint64_t>(count);
    if (bulks > options_.max_args) return Fail(std::string(kInvalidMultibulkLength));
    if (!authenticated_ && bulks > options_.max_args_unauthenticated) {
      return Fail(std::string(kUnauthenticatedMultibulkLength));
    }
    bulks_remaining_ = bulks;
    pos_ = next;
  }
  return ParseBulks();
}

RespParser::Step RespParser::ParseBulks() {
  const char* data = data_.get();
  while (bulks_remaining_ > 0) {
    if (bulk_bytes_ < 0) {
      if (pos_ == size_) return Step::kNeedMore;
      if (data[pos_] != '$') return Fail(ExpectedDollar(data[pos_]));
      int64_t length = 0;
      size_t next = 0;
      switch (ParseLengthLine(pos_ + 1, &length, &next)) {
        case Line::kNeedMore:
          return Step::kNeedMore;
        case Line::kInvalid:
          return Fail(std::string(kInvalidBulkLength));
        case Line::kValid:
          break;
      }
      if (length < 0 || static_cast<uint64_t>(length) > options_.max_bulk_bytes) {
        return Fail(std::string(kInvalidBulkLength));
      }
      if (!authenticated_ &&
          static_cast<uint64_t>(length) > options_.max_bulk_bytes_unauthenticated) {
        return Fail(std::string(kUnauthenticatedBulkLength));
      }
      // Refused when declared, not when buffered: the answer must not depend on the split.
      if (next - command_start_ + static_cast<uint64_t>(length) + 2 > options_.max_command_bytes) {
        return Fail(std::string(kTooBigMultibulkRequest));
      }
      pos_ = next;
      bulk_bytes_ = length;
    }
    const auto length = static_cast<size_t>(bulk_bytes_);
    if (size_ - pos_ < length + 2) return Step::kNeedMore;  // O(1): nothing is rescanned
    if (data[pos_ + length] != '\r' || data[pos_ + length + 1] != '\n') {
      return Fail(std::string(kUnterminatedBulk));
    }
    args_.emplace_back(data + pos_, length);
    pos_ += length + 2;
    bulk_bytes_ = -1;
    --bulks_remaining_;
  }
  return EndRequest(pos_, Step::kCommand);
}

RespParser::Step RespParser::ParseInline() {
  char* data = data_.get();
  const void* newline = std::memchr(data + pos_, '\n', size_ - pos_);
  if (newline == nullptr) {
    pos_ = size_;  // the next search starts here: a long line arriving in pieces is scanned once
    // Once its newline arrives the line is at least this long (a trailing '\r' may belong to the
    // terminator), so refusing now gives the answer the whole line would get.
    size_t pending = size_ - command_start_;
    if (data[size_ - 1] == '\r') --pending;
    if (pending > options_.max_inline_bytes) return Fail(std::string(kTooBigInlineRequest));
    return Step::kNeedMore;
  }
  const auto newline_at = static_cast<size_t>(static_cast<const char*>(newline) - data);
  size_t end = newline_at;
  if (end > command_start_ && data[end - 1] == '\r') --end;
  if (end - command_start_ > options_.max_inline_bytes) {
    return Fail(std::string(kTooBigInlineRequest));
  }
  // sdssplitargs reads the line as a C string: words end at its first NUL.
  if (const void* nul = std::memchr(data + command_start_, '\0', end - command_start_)) {
    end = static_cast<size_t>(static_cast<const char*>(nul) - data);
  }
  switch (SplitInlineArgs(data + command_start_, data + end, options_.max_args,
                          options_.max_bulk_bytes, &args_)) {
    case InlineSplit::kUnbalancedQuotes:
      return Fail(std::string(kUnbalancedQuotes));
    case InlineSplit::kTooBig:
      return Fail(std::string(kTooBigInlineRequest));
    case InlineSplit::kOk:
      break;
  }
  return EndRequest(newline_at + 1, args_.empty() ? Step::kSkip : Step::kCommand);
}

RespParser::Step RespParser::EndRequest(size_t next, Step step) {
  command_start_ = next;
  pos_ = next;
  mode_ = Mode::kIdle;
  return step;
}

RespParser::Step RespParser::Fail(std::string message) {
  error_ = InvalidArgument(std::move(message));
  return Step::kError;
}

void RespParser::Compact() {
  prepared_bytes_ = 0;
  if (command_start_ == size_) {
    // Nothing in progress: forget the returned requests, and free what a large one left behind.
    args_.clear();
    size_ = command_start_ = pos_ = 0;
    if (capacity_ > options_.max_idle_buffer_bytes) Reallocate(0);
    if (args_.capacity() * sizeof(std::string_view) > options_.max_idle_buffer_bytes) {
      std::vector<std::string_view>().swap(args_);
    }
  } else if (command_start_ >= size_ - command_start_) {
    MoveLive(data_.get());
  }
  PoisonTail();
}

void RespParser::MoveLive(char* to) {
  const char* from = data_.get() + command_start_;
  const size_t live = size_ - command_start_;
  if (mode_ == Mode::kMultibulk) {
    for (std::string_view& arg : args_)
      arg = std::string_view(to + (arg.data() - from), arg.size());
  } else {
    args_.clear();  // the last command's views die with its bytes
  }
  if (live > 0) std::memmove(to, from, live);
  pos_ -= command_start_;
  size_ = live;
  command_start_ = 0;
}

void RespParser::Reallocate(size_t capacity) {
  MERIDIAN_ASSERT(capacity >= size_ - command_start_);
  std::unique_ptr<char[]> fresh;
  if (capacity > 0) fresh = std::make_unique_for_overwrite<char[]>(capacity);
  UnpoisonBytes(data_.get(), capacity_);  // the allocator gets its memory back as it gave it
  MoveLive(fresh.get());
  data_ = std::move(fresh);
  capacity_ = capacity;
  PoisonTail();
}

void RespParser::PoisonTail() const {
  PoisonBytes(data_.get() + size_, capacity_ - size_);
}

void RespParser::UnpoisonTail() const {
  UnpoisonBytes(data_.get() + size_, capacity_ - size_);
}

}  // namespace meridian
