#include "cluster/listener.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "cluster/child_process.h"

namespace meridian {
namespace {

// A socket bound to a free 127.0.0.1 port, listening when asked; closed on destruction.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 4), 0);
    }
  }
  ~LoopbackSocket() { Close(); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_ = 0;
};

TEST(ProcessListensOnTest, OnlyTheProcessHoldingTheListenerCounts) {
  LoopbackSocket listener(/*listen=*/true);
  EXPECT_TRUE(ProcessListensOn(::getpid(), listener.port()));

  // Another process answers false for our listener: how a second demo tells its child apart.
  // Between fork and exec the child still holds the parent's descriptors; once it runs sleep
  // (it closes them before exec: ChildProcess contract 4) it must not.
  ChildProcess other;
  ASSERT_TRUE(other.Start({"/bin/sleep", "30"}, "/dev/null").ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::error_code error;
  while (!std::filesystem::read_symlink("/proc/" + std::to_string(other.pid()) + "/exe", error)
              .string()
              .ends_with("sleep") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(ProcessListensOn(other.pid(), listener.port()));
  other.Kill();

  listener.Close();
  EXPECT_FALSE(ProcessListensOn(::getpid(), listener.port()));
}

TEST(ProcessListensOnTest, ABoundSocketThatDoesNotListenDoesNotCount) {
  LoopbackSocket bound(/*listen=*/false);
  EXPECT_FALSE(ProcessListensOn(::getpid(), bound.port()));
}

TEST(ProcessListensOnTest, AProcessThatIsGoneIsFalseNotAnError) {
  ChildProcess gone;
  ASSERT_TRUE(gone.Start({"/bin/true"}, "/dev/null").ok());
  const pid_t pid = gone.pid();
  ASSERT_TRUE(gone.Wait(std::chrono::seconds(10)).has_value());
  EXPECT_FALSE(ProcessListensOn(pid, 1));
}

}  // namespace
}  // namespace meridian
