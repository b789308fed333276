#include "cluster/listener.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace meridian {

namespace {

constexpr char kTcpListenState[] = "0A";  // TCP_LISTEN in /proc/net/tcp's "st" column

// Inodes of the sockets listening on `port` in one /proc/<pid>/net/tcp{,6} table. Each line:
// "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...", the local
// address as hex "ADDR:PORT".
void ListeningInodes(const std::string& table, uint16_t port, std::set<std::string>& inodes) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    const size_t colon = local.rfind(':');
    if (state != kTcpListenState || colon == std::string::npos) continue;
    const std::string_view hex = std::string_view(local).substr(colon + 1);
    unsigned value = 0;
    const auto [end, parsed] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    if (parsed == std::errc() && value == port) inodes.insert(inode);
  }
}

}  // namespace

bool ProcessListensOn(pid_t pid, uint16_t port) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::set<std::string> inodes;
  ListeningInodes(proc + "/net/tcp", port, inodes);
  ListeningInodes(proc + "/net/tcp6", port, inodes);
  if (inodes.empty()) return false;
  // The error_code forms throughout: a process that exits meanwhile is an answer, not a throw.
  std::error_code error;
  std::filesystem::directory_iterator fd(proc + "/fd", error);
  for (; !error && fd != std::filesystem::directory_iterator(); fd.increment(error)) {
    std::error_code link_error;
    const std::string target = std::filesystem::read_symlink(fd->path(), link_error).string();
    constexpr std::string_view kPrefix = "socket:[";  // a socket's link reads "socket:[inode]"
    if (link_error || !target.starts_with(kPrefix) || !target.ends_with(']')) continue;
    if (inodes.contains(target.substr(kPrefix.size(), target.size() - kPrefix.size() - 1))) {
      return true;
    }
  }
  return false;
}

}  // namespace meridian
