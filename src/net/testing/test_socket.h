// TestSocket: a blocking POSIX TCP client for tests that need raw bytes on the wire (garbage
// requests, echo round trips). Every read is bounded by a deadline, so a test cannot hang.
// Test-only; 127.0.0.1 only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace meridian::testing {

class TestSocket {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to 127.0.0.1:port; valid() is false on failure.
  explicit TestSocket(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      Close();
    }
    int one = 1;
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~TestSocket() { Close(); }
  TestSocket(const TestSocket&) = delete;
  TestSocket& operator=(const TestSocket&) = delete;

  bool valid() const { return fd_ >= 0; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty() && fd_ >= 0) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return fd_ >= 0;
  }

  // Reads until `want` bytes arrived, the peer closed, or `timeout` passed.
  std::string Read(size_t want, std::chrono::milliseconds timeout) {
    std::string out;
    const Clock::time_point deadline = Clock::now() + timeout;
    while (out.size() < want && fd_ >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd pfd{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[65536];
      const size_t room = std::min(sizeof(buffer), want - out.size());
      const ssize_t n = ::recv(fd_, buffer, room, 0);
      if (n <= 0) {
        closed_by_peer_ = true;
        break;
      }
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  // One HTTP/1.1 response with a Content-Length body (or "" on timeout / close).
  std::string ReadHttpResponse(std::chrono::milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    std::string out;
    size_t header_end = std::string::npos;
    while ((header_end = out.find("\r\n\r\n")) == std::string::npos) {
      const std::string byte = Read(1, Remaining(deadline));
      if (byte.empty()) return "";
      out += byte;
    }
    size_t length = 0;
    const size_t field = out.find("Content-Length: ");
    if (field != std::string::npos && field < header_end) {
      length = std::stoul(out.substr(field + 16));
    }
    out += Read(length, Remaining(deadline));
    return out;
  }

  // Everything until the peer closes (or timeout).
  std::string ReadAll(std::chrono::milliseconds timeout) { return Read(SIZE_MAX, timeout); }

  // True once a read saw EOF or a reset.
  bool closed_by_peer() const { return closed_by_peer_; }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  static std::chrono::milliseconds Remaining(Clock::time_point deadline) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  }

  int fd_ = -1;
  bool closed_by_peer_ = false;
};

}  // namespace meridian::testing
