// The progress line of long commands: when it shows, what it says, how it is drawn.
#include "tools/progress_line.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace meridian {
namespace {

TEST(ProgressLineTest, ShowsOnATerminalOrWhenAskedAndNeverWhenTold) {
  EXPECT_TRUE(ShowProgress(ProgressMode::kAuto, true));
  EXPECT_FALSE(ShowProgress(ProgressMode::kAuto, false));
  EXPECT_TRUE(ShowProgress(ProgressMode::kAlways, false));
  EXPECT_FALSE(ShowProgress(ProgressMode::kNever, true));
  EXPECT_EQ(ProgressModeFromFlags(false, false), ProgressMode::kAuto);
  EXPECT_EQ(ProgressModeFromFlags(true, false), ProgressMode::kAlways);
  EXPECT_EQ(ProgressModeFromFlags(false, true), ProgressMode::kNever);
}

TEST(ProgressLineTest, FormatsBytesInSiUnits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(999), "999 B");
  EXPECT_EQ(FormatBytes(1000), "1.0 kB");
  EXPECT_EQ(FormatBytes(1'550), "1.6 kB");
  EXPECT_EQ(FormatBytes(999'960), "1.0 MB");  // not "1000.0 kB"
  EXPECT_EQ(FormatBytes(45'600'000), "45.6 MB");
  EXPECT_EQ(FormatBytes(2'000'000'000), "2.0 GB");
  EXPECT_EQ(FormatBytes(5'000'000'000'000'000), "5000.0 TB");
}

TEST(ProgressLineTest, FormatsOneLine) {
  EXPECT_EQ(FormatProgress("backup eu", 12.34, 4'500'000), "backup eu: 12.3 s, 4.5 MB written");
  EXPECT_EQ(FormatProgress("backup eu", 0.0, std::nullopt), "backup eu: 0.0 s");
  EXPECT_EQ(FormatProgress("restore", -1.0, 0), "restore: 0.0 s, 0 B written");
}

TEST(ProgressLineTest, RedrawsInPlaceOnATerminalAndWritesLinesOtherwise) {
  EXPECT_EQ(RenderTick("restore: 1.0 s", true), "\rrestore: 1.0 s\x1b[K");
  EXPECT_EQ(RenderTick("restore: 1.0 s", false), "restore: 1.0 s\n");
  EXPECT_EQ(RenderDone(true), "\r\x1b[K");
  EXPECT_EQ(RenderDone(false), "");
}

TEST(ProgressLineTest, DirectoryBytesSumsRegularFilesAndIsZeroForAMissingOne) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("progress_line_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "a") << std::string(100, 'a');
  std::ofstream(dir / "sub" / "b") << std::string(23, 'b');
  EXPECT_EQ(DirectoryBytes(dir.string()), 123u);
  EXPECT_EQ(DirectoryBytes((dir / "missing").string()), 0u);
  std::filesystem::remove_all(dir);
}

// The ticker writes ticks while it runs and ends its output with RenderDone; disabled, nothing.
TEST(ProgressLineTest, TickerWritesLinesUntilStoppedAndNothingWhenDisabled) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  std::mutex mu;
  std::condition_variable ticked;
  int ticks = 0;
  {
    ProgressTicker ticker(true, false, out, std::chrono::milliseconds(1), [&] {
      std::lock_guard lock(mu);
      ++ticks;
      ticked.notify_all();
      return std::string("backup eu: tick");
    });
    std::unique_lock lock(mu);
    ASSERT_TRUE(ticked.wait_for(lock, std::chrono::seconds(10), [&] { return ticks >= 2; }));
  }  // destruction stops it
  std::fclose(out);
  const std::string written(buffer, size);
  std::free(buffer);
  EXPECT_EQ(written.substr(0, 16), "backup eu: tick\n");
  EXPECT_EQ(written.size() % 16, 0u) << "whole lines only: " << written;

  buffer = nullptr;
  size = 0;
  out = open_memstream(&buffer, &size);
  ASSERT_NE(out, nullptr);
  bool called = false;
  {
    ProgressTicker off(false, true, out, std::chrono::milliseconds(1), [&] {
      called = true;
      return std::string("x");
    });
    off.Stop();
  }
  std::fclose(out);
  EXPECT_EQ(size, 0u);
  EXPECT_FALSE(called);
  std::free(buffer);
}

}  // namespace
}  // namespace meridian
