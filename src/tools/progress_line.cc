#include "tools/progress_line.h"

#include <filesystem>
#include <system_error>

namespace meridian {

bool ShowProgress(ProgressMode mode, bool stderr_is_tty) {
  switch (mode) {
    case ProgressMode::kAlways:
      return true;
    case ProgressMode::kNever:
      return false;
    case ProgressMode::kAuto:
      break;
  }
  return stderr_is_tty;
}

ProgressMode ProgressModeFromFlags(bool progress, bool no_progress) {
  if (no_progress) return ProgressMode::kNever;
  return progress ? ProgressMode::kAlways : ProgressMode::kAuto;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes) / 1000.0;
  size_t unit = 0;
  // Move up while the rounded figure would read 1000.0 or more.
  while (value >= 999.95 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string FormatProgress(std::string_view what, double elapsed_s,
                           std::optional<uint64_t> bytes_written) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f s", elapsed_s < 0 ? 0.0 : elapsed_s);
  std::string line = std::string(what) + ": " + elapsed;
  if (bytes_written) line += ", " + FormatBytes(*bytes_written) + " written";
  return line;
}

std::string RenderTick(std::string_view line, bool tty) {
  return tty ? "\r" + std::string(line) + "\x1b[K" : std::string(line) + "\n";
}

std::string RenderDone(bool tty) {
  return tty ? "\r\x1b[K" : "";
}

uint64_t DirectoryBytes(const std::string& dir) {
  std::error_code error;
  uint64_t total = 0;
  std::filesystem::recursive_directory_iterator it(
      dir, std::filesystem::directory_options::skip_permission_denied, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    std::error_code entry_error;
    if (it->is_regular_file(entry_error)) {
      const uintmax_t size = it->file_size(entry_error);
      if (!entry_error) total += size;  // a file removed while we walk counts as nothing
    }
  }
  return total;
}

ProgressTicker::ProgressTicker(bool enabled, bool tty, std::FILE* out,
                               std::chrono::milliseconds interval,
                               std::function<std::string()> line)
    : tty_(tty), out_(out), interval_(interval), line_(std::move(line)) {
  if (enabled) thread_ = std::thread([this] { Run(); });
}

ProgressTicker::~ProgressTicker() {
  Stop();
}

void ProgressTicker::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  stop_cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void ProgressTicker::Run() {
  MutexLock lock(&mu_);
  for (;;) {
    // One interval, cut short by Stop().
    const auto deadline = std::chrono::steady_clock::now() + interval_;
    for (auto now = std::chrono::steady_clock::now(); !stop_ && now < deadline;
         now = std::chrono::steady_clock::now()) {
      stop_cv_.WaitFor(&mu_, deadline - now);
    }
    if (stop_) break;
    const std::string tick = RenderTick(line_(), tty_);
    std::fwrite(tick.data(), 1, tick.size(), out_);
    std::fflush(out_);
  }
  const std::string done = RenderDone(tty_);
  std::fwrite(done.data(), 1, done.size(), out_);
  std::fflush(out_);
}

}  // namespace meridian
