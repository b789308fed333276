// ChildProcess: a `meridian` subprocess (or any program) with its output in a log file, for the
// demo supervisor and the integration tests.
//
// Contract:
//  1. The child runs in its own process group with an empty signal mask, so Ctrl-C in a terminal
//     reaches only the supervisor, which then stops its children in order.
//  2. With die_with_parent, the child gets SIGTERM when the process that started it dies
//     (PR_SET_PDEATHSIG), so even a supervisor killed with SIGKILL leaves no process behind.
//  3. Every wait is bounded; Stop() escalates to SIGKILL when the bound passes. The destructor
//     kills and reaps a child still running.
//  4. The child inherits no file descriptor but 0, 1 and 2: a listener of the parent's (the
//     demo's control API) is never held by a child, so it neither stays bound after the parent
//     is gone nor makes the child look like the process serving that port (ProcessListensOn).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace meridian {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // Kill()s
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is the program's path. Output (stdout and stderr) is appended to `log_path`.
  Status Start(const std::vector<std::string>& argv, const std::string& log_path,
               bool die_with_parent = true);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // SIGKILL and reap.
  void Kill();
  // Sends `signal`, waits up to `timeout` for the exit and returns its code (the exit status,
  // or 128 + the signal that ended it); nullopt when it had to be killed.
  std::optional<int> Stop(int signal, std::chrono::milliseconds timeout);
  // Waits up to `timeout` for the child to exit by itself.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Reaps the child if it has exited; returns its code then, else nullopt (never blocks).
  std::optional<int> Poll();

 private:
  pid_t pid_ = -1;
};

// The path of the running executable (/proc/self/exe), to start sibling subcommands.
std::string SelfExecutable();

}  // namespace meridian
