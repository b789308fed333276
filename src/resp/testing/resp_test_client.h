// RespTestClient: a blocking Redis-protocol client for tests, on plain POSIX sockets: send
// commands (or raw bytes), read whole replies (RespReplyFramer), every read bounded by a timeout.
// Test-only and header-only, so that unit and integration tests need no client library.
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "resp/resp_reply_framer.h"
#include "resp/resp_writer.h"

namespace meridian::testing {

class RespTestClient {
 public:
  RespTestClient() = default;
  RespTestClient(RespTestClient&& other) noexcept { *this = std::move(other); }
  RespTestClient& operator=(RespTestClient&& other) noexcept {
    std::swap(fd_, other.fd_);
    std::swap(buffer_, other.buffer_);
    return *this;
  }
  ~RespTestClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects to "host:port"; each later read waits at most `timeout` for bytes.
  static Result<RespTestClient> Connect(const std::string& address,
                                        std::chrono::milliseconds timeout) {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("no port in " + address);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints,
                      &found) != 0) {
      return InvalidArgument("cannot resolve " + address);
    }
    RespTestClient client;
    client.fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int connected = ::connect(client.fd_, found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (client.fd_ < 0 || connected != 0) {
      return Unavailable("connect " + address + ": " + std::strerror(errno));
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(client.fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(client.fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return client;
  }

  // The command as a multibulk request.
  static std::string Encode(const std::vector<std::string>& args) { return EncodeCommand(args); }

  Status SendRaw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return Unavailable(std::string("send: ") + std::strerror(errno));
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Send(const std::vector<std::string>& args) { return SendRaw(Encode(args)); }

  // The next whole reply, byte for byte; Unavailable when the connection closed or the timeout
  // passed first, InvalidArgument for bytes that are no reply.
  Result<std::string> ReadReply() {
    RespReplyFramer framer;
    for (;;) {
      const RespReplyFramer::Outcome outcome = framer.Next(buffer_);
      if (outcome == RespReplyFramer::Outcome::kError) return framer.error();
      if (outcome == RespReplyFramer::Outcome::kFrame) {
        std::string reply = buffer_.substr(0, framer.frame_bytes());
        buffer_.erase(0, framer.frame_bytes());
        return reply;
      }
      if (Status read = ReadSome(); !read.ok()) return read;
    }
  }

  Result<std::string> Call(const std::vector<std::string>& args) {
    if (Status sent = Send(args); !sent.ok()) return sent;
    return ReadReply();
  }

  // Reads until the peer closes (true) or the timeout passes (false); *bytes gets what came.
  bool ReadUntilClosed(std::string* bytes) {
    for (;;) {
      Status read = ReadSome();
      if (!read.ok()) {
        *bytes = buffer_;
        return read.message() == "closed";
      }
    }
  }

 private:
  Status ReadSome() {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0) return Unavailable("closed");
    if (n < 0) return Unavailable(std::string("recv: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
    return Status::Ok();
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace meridian::testing
