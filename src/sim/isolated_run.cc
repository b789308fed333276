#include "sim/isolated_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/assert.h"

namespace meridian {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;)
    out.append(buffer, size_t(n));
  return out;
}

}  // namespace

SimResult RunIsolated(const SimOptions& options) {
  int fds[2];
  MERIDIAN_ASSERT(pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t child = fork();
  MERIDIAN_ASSERT(child >= 0);
  if (child == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);  // an assertion message lands in the pipe
    SimResult r = RunSimulation(options, nullptr);
    const std::string line =
        r.violations.empty() ? std::string("ok\n") : "violation " + r.violations.front() + "\n";
    ssize_t written = write(fds[1], line.data(), line.size());
    _exit(written == static_cast<ssize_t>(line.size()) ? 0 : 3);
  }
  close(fds[1]);
  const std::string output = ReadAll(fds[0]);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  SimResult result;
  result.seed = options.seed;
  if (WIFSIGNALED(status)) {
    const size_t at = output.find("MERIDIAN_ASSERT");
    result.violations.push_back("the core stopped on an invariant: " +
                                (at == std::string::npos ? output : output.substr(at)));
    while (!result.violations.back().empty() && result.violations.back().back() == '\n') {
      result.violations.back().pop_back();
    }
  } else if (output.rfind("violation ", 0) == 0) {
    result.violations.push_back(output.substr(10, output.find('\n') - 10));
  }
  return result;
}

}  // namespace meridian
