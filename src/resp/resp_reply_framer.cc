#include "resp/resp_reply_framer.h"

#include <charconv>
#include <optional>
#include <string>

namespace meridian {

namespace {

// The longest length or count line after its type byte: "-" and 19 digits.
constexpr size_t kLengthDigitsMax = 20;

// "<integer>" after the type byte, as redis-server writes it; nullopt for anything else.
std::optional<int64_t> ParseLength(std::string_view digits) {
  if (digits.empty() || digits.size() > kLengthDigitsMax) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace

RespReplyFramer::RespReplyFramer(RespReplyFramerOptions options) : options_(options) {}

void RespReplyFramer::Reset() {
  pos_ = 0;
  line_start_ = 0;
  scan_from_ = 0;
  bulk_bytes_ = -1;
  open_.clear();
  done_ = false;
  error_ = Status::Ok();
}

RespReplyFramer::Outcome RespReplyFramer::Next(std::string_view buffer) {
  if (!error_.ok()) return Outcome::kError;
  while (!done_) {
    if (bulk_bytes_ >= 0) {
      const size_t end = pos_ + static_cast<size_t>(bulk_bytes_);
      if (buffer.size() < end + 2) return Outcome::kNeedMore;
      if (buffer[end] != '\r' || buffer[end + 1] != '\n') {
        Fail("bulk string not followed by CRLF");
        return Outcome::kError;
      }
      pos_ = end + 2;
      line_start_ = scan_from_ = pos_;
      bulk_bytes_ = -1;
      ElementDone();
      continue;
    }
    const Step step = ReadElement(buffer);
    if (step == Step::kNeedMore) return Outcome::kNeedMore;
    if (step == Step::kError) return Outcome::kError;
  }
  frame_bytes_ = pos_;
  Reset();
  return Outcome::kFrame;
}

RespReplyFramer::Step RespReplyFramer::ReadLine(std::string_view buffer, std::string_view* line) {
  const size_t newline = buffer.find('\n', scan_from_);
  if (newline == std::string_view::npos) {
    if (buffer.size() - line_start_ > options_.max_line_bytes + 2) {
      return Fail("reply line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
    }
    scan_from_ = buffer.size();
    return Step::kNeedMore;
  }
  // The type byte, at least, then CR before LF.
  if (newline < line_start_ + 2 || buffer[newline - 1] != '\r') {
    return Fail("reply line not ended by CRLF");
  }
  if (newline - 1 - line_start_ > options_.max_line_bytes) {
    return Fail("reply line longer than " + std::to_string(options_.max_line_bytes) + " bytes");
  }
  *line = buffer.substr(line_start_, newline - 1 - line_start_);
  pos_ = newline + 1;
  line_start_ = scan_from_ = pos_;
  return Step::kDone;
}

RespReplyFramer::Step RespReplyFramer::ReadElement(std::string_view buffer) {
  std::string_view line;
  if (const Step step = ReadLine(buffer, &line); step != Step::kDone) return step;
  if (pos_ > options_.max_frame_bytes) {
    return Fail("reply larger than " + std::to_string(options_.max_frame_bytes) + " bytes");
  }
  const char type = line[0];
  switch (type) {
    case '+':  // simple string
    case '-':  // error
    case ':':  // integer
    case '_':  // RESP3 null
    case ',':  // double
    case '#':  // boolean
    case '(':  // big number
      ElementDone();
      return Step::kDone;
    case '$':    // bulk string
    case '!':    // blob error
    case '=': {  // verbatim string
      const std::optional<int64_t> length = ParseLength(line.substr(1));
      if (length && *length == -1 && type == '$') {
        ElementDone();
        return Step::kDone;
      }
      if (!length || *length < 0) return Fail("invalid bulk length in reply");
      if (static_cast<uint64_t>(*length) > options_.max_bulk_bytes ||
          pos_ + static_cast<uint64_t>(*length) + 2 > options_.max_frame_bytes) {
        return Fail("reply bulk of " + std::to_string(*length) + " bytes is over the limit");
      }
      bulk_bytes_ = *length;
      return Step::kDone;
    }
    case '*':  // array
    case '~':  // set
    case '>':  // push
    case '%':  // map
    case '|':  // attribute: its pairs, then the reply it annotates
    {
      const std::optional<int64_t> count = ParseLength(line.substr(1));
      if (count && *count == -1 && type == '*') {
        ElementDone();
        return Step::kDone;
      }
      // An element takes at least 3 bytes ("_\r\n"), so a count the frame cannot hold is bad.
      if (!count || *count < 0 || static_cast<uint64_t>(*count) > options_.max_frame_bytes / 3) {
        return Fail("invalid aggregate length in reply");
      }
      uint64_t elements = static_cast<uint64_t>(*count);
      if (type == '%' || type == '|') elements *= 2;
      if (type == '|') elements += 1;
      if (elements == 0) {
        ElementDone();
        return Step::kDone;
      }
      if (open_.size() >= options_.max_depth) {
        return Fail("reply nested deeper than " + std::to_string(options_.max_depth));
      }
      open_.push_back(elements);
      return Step::kDone;
    }
    default:
      return Fail("unknown reply type byte " + std::to_string(static_cast<unsigned char>(type)));
  }
}

void RespReplyFramer::ElementDone() {
  while (!open_.empty()) {
    if (--open_.back() > 0) return;
    open_.pop_back();
  }
  done_ = true;
}

RespReplyFramer::Step RespReplyFramer::Fail(std::string message) {
  error_ = InvalidArgument(std::move(message));
  return Step::kError;
}

}  // namespace meridian
