// TcpForwarder: a test-only TCP relay on 127.0.0.1 that fails the way a WAN link does.
//
// What it does with a new connection depends on its mode: kRefuse closes it at once (nothing
// listening there yet), kBlackHole accepts it and never reads or answers, kForward relays it to
// 127.0.0.1:target. Hold() stops moving bytes on every connection without closing anything, so
// bytes pile up in kernel buffers exactly as behind a cut link that holds them; Release()
// resumes. Cut() and Heal() do what `meridian wan` does to a proxy that is disabled and enabled
// again: Cut() holds every connection and black-holes new ones; Heal() resets (RST) every
// connection that saw the cut and forwards again. Captured() is every byte relayed so far, both
// directions, up to kCaptureBytesMax (what an eavesdropper on the link would see). One thread,
// blocked in poll() (a pipe wakes it); bounded by the destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/thread_annotations.h"

namespace meridian::testing {

class TcpForwarder {
 public:
  enum class Mode { kRefuse, kBlackHole, kForward };

  TcpForwarder() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t length = sizeof(addr);
    if (listen_fd_ < 0 || ::bind(listen_fd_, Cast(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, Cast(&addr), &length) != 0 ||
        ::pipe(wake_) != 0) {
      std::abort();  // a test environment without loopback sockets cannot run these tests
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpForwarder() {
    {
      MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    for (const Pair& pair : pairs_) {
      ClosePair(pair);
    }
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Each change is made under mu_, then wakes the thread to act on it.
  void Forward(uint16_t target_port) MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      mode_ = Mode::kForward;
      target_port_ = target_port;
    }
    Wake();
  }
  void BlackHole() MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      mode_ = Mode::kBlackHole;
    }
    Wake();
  }
  void Hold() MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      held_ = true;
    }
    Wake();
  }
  void Release() MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      held_ = false;
    }
    Wake();
  }
  void Cut() MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      held_ = true;
      mode_ = Mode::kBlackHole;
    }
    Wake();
  }
  void Heal(uint16_t target_port) MERIDIAN_EXCLUDES(mu_) {
    {
      MutexLock lock(&mu_);
      reset_pending_ = true;
      held_ = false;
      mode_ = Mode::kForward;
      target_port_ = target_port;
    }
    Wake();
  }
  int connections_accepted() const { return accepted_.load(); }
  std::string Captured() MERIDIAN_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return captured_;
  }
  // Enough for the handshakes and a few messages of a test; later bytes are not kept.
  static constexpr size_t kCaptureBytesMax = size_t{4} << 20;

 private:
  struct Pair {
    int client = -1;
    int upstream = -1;  // -1: black-holed, never read
  };

  static sockaddr_in Loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }
  static sockaddr* Cast(sockaddr_in* addr) { return reinterpret_cast<sockaddr*>(addr); }
  static void ClosePair(const Pair& pair) {
    ::close(pair.client);
    if (pair.upstream >= 0) ::close(pair.upstream);
  }
  // linger 0: close() sends RST, so both ends see the connection break at once.
  static void ResetPair(const Pair& pair) {
    const linger reset{1, 0};
    ::setsockopt(pair.client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (pair.upstream >= 0)
      ::setsockopt(pair.upstream, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    ClosePair(pair);
  }

  // Makes the thread re-read the flags (it polls the pipe's read end).
  void Wake() {
    const char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_[1], &byte, 1);
  }

  void Run() MERIDIAN_EXCLUDES(mu_) {
    for (;;) {
      bool held = false;
      bool reset = false;
      {
        MutexLock lock(&mu_);
        if (stopping_) return;
        held = held_;
        reset = std::exchange(reset_pending_, false);
      }
      if (reset) {
        for (const Pair& pair : pairs_)
          ResetPair(pair);
        pairs_.clear();
      }
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (const Pair& pair : pairs_) {
        if (held || pair.upstream < 0) continue;
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.upstream, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), -1) <= 0) continue;
      if (fds[0].revents != 0) {
        char buffer[64];
        [[maybe_unused]] ssize_t n = ::read(wake_[0], buffer, sizeof(buffer));
        continue;  // re-read the flags before moving any byte
      }
      if (fds[1].revents != 0) Accept();
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0) Relay(fds[i].fd);
      }
    }
  }

  void Accept() MERIDIAN_EXCLUDES(mu_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    accepted_.fetch_add(1);
    Mode mode;
    uint16_t target = 0;
    {
      MutexLock lock(&mu_);
      mode = mode_;
      target = target_port_;
    }
    if (mode == Mode::kRefuse) {
      ::close(fd);
      return;
    }
    Pair pair{fd, -1};
    if (mode == Mode::kForward) {
      pair.upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr = Loopback(target);
      if (pair.upstream < 0 || ::connect(pair.upstream, Cast(&addr), sizeof(addr)) != 0) {
        ClosePair(pair);
        return;
      }
    }
    pairs_.push_back(pair);
  }

  // Moves what is readable on `fd` to the other side; closes the pair on EOF or error.
  void Relay(int fd) MERIDIAN_EXCLUDES(mu_) {
    for (size_t i = 0; i < pairs_.size(); ++i) {
      Pair& pair = pairs_[i];
      if (pair.client != fd && pair.upstream != fd) continue;
      const int to = fd == pair.client ? pair.upstream : pair.client;
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
      if (n > 0) {
        MutexLock lock(&mu_);
        const size_t room = kCaptureBytesMax - std::min(kCaptureBytesMax, captured_.size());
        captured_.append(buffer, std::min(room, static_cast<size_t>(n)));
      }
      if (n > 0 && SendAll(to, buffer, static_cast<size_t>(n))) return;
      ClosePair(pair);
      pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
  }

  static bool SendAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<Pair> pairs_;  // forwarder thread only (and the destructor after the join)
  Mutex mu_;
  Mode mode_ MERIDIAN_GUARDED_BY(mu_) = Mode::kRefuse;
  uint16_t target_port_ MERIDIAN_GUARDED_BY(mu_) = 0;
  bool held_ MERIDIAN_GUARDED_BY(mu_) = false;
  // Heal() asked the thread to reset every pair.
  bool reset_pending_ MERIDIAN_GUARDED_BY(mu_) = false;
  bool stopping_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::string captured_ MERIDIAN_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace meridian::testing
