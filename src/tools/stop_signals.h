// BlockedStopSignals: how every long-running `meridian` subcommand waits for Ctrl-C / SIGTERM.
//
// Construct it first thing in the command, before any thread starts: it blocks SIGINT and SIGTERM
// in the calling thread and so in every thread started afterwards; the owner then collects them
// with Wait() (sigwait), which needs no handler and no polling. The destructor restores the mask.
#pragma once

#include <pthread.h>

#include <csignal>

namespace meridian {

class BlockedStopSignals {
 public:
  BlockedStopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~BlockedStopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  BlockedStopSignals(const BlockedStopSignals&) = delete;
  BlockedStopSignals& operator=(const BlockedStopSignals&) = delete;

  // Blocks until SIGINT or SIGTERM arrives; returns its number.
  int Wait() {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }

 private:
  sigset_t set_;
  sigset_t previous_;
};

}  // namespace meridian
