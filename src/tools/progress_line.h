// ProgressLine: the one-line progress a long command (`meridian backup`, `meridian restore`)
// shows on stderr while it waits, so a person at a terminal sees it is alive and how far it got.
//
// Contract:
//  1. ShowProgress(): kAuto shows only when stderr is a terminal; kAlways (--progress) always;
//     kNever (--no-progress) never. Nothing else is written to stderr for progress.
//  2. FormatProgress() is one line without a newline: "WHAT: 12.3 s" and, when the bytes so far
//     are known, ", 4.5 MB written" (SI units: B, kB, MB, GB, TB, one decimal past B).
//  3. RenderTick(): on a terminal "\r" + line + "\x1b[K" (redraw in place, clear the rest);
//     otherwise line + "\n" (a log gets one line per tick). RenderDone() ends it: on a terminal
//     "\r\x1b[K" (the line erased, the command's own result follows), otherwise nothing.
//  4. ProgressTicker writes RenderTick(line()) to `out` every `interval` from its own thread
//     until Stop() (or destruction), then RenderDone(); Stop() returns within one tick's write.
//     A disabled ticker (ShowProgress false) starts no thread and writes nothing.
//  5. DirectoryBytes() is the size of the regular files under a directory (0 when it is not
//     there or not readable): how backup and restore measure what they wrote so far.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/thread_annotations.h"

namespace meridian {

enum class ProgressMode { kAuto, kAlways, kNever };

// Contract 1.
bool ShowProgress(ProgressMode mode, bool stderr_is_tty);
// From the --progress / --no-progress flags (CLI11 makes them exclusive).
ProgressMode ProgressModeFromFlags(bool progress, bool no_progress);

std::string FormatBytes(uint64_t bytes);
// Contract 2.
std::string FormatProgress(std::string_view what, double elapsed_s,
                           std::optional<uint64_t> bytes_written);
// Contract 3.
std::string RenderTick(std::string_view line, bool tty);
std::string RenderDone(bool tty);

// Contract 5.
uint64_t DirectoryBytes(const std::string& dir);

// Contract 4.
class ProgressTicker {
 public:
  ProgressTicker(bool enabled, bool tty, std::FILE* out, std::chrono::milliseconds interval,
                 std::function<std::string()> line);
  ~ProgressTicker();  // Stop()s
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;
  void Stop() MERIDIAN_EXCLUDES(mu_);

 private:
  void Run() MERIDIAN_EXCLUDES(mu_);

  bool tty_;
  std::FILE* out_;
  std::chrono::milliseconds interval_;
  std::function<std::string()> line_;
  Mutex mu_;
  CondVar stop_cv_;
  bool stop_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace meridian
