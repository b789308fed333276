#include "server/wal_syncer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "store/memory_storage.h"

namespace meridian {
namespace {

// Collects the syncer's reports; waits for them with a bound.
class Reports {
 public:
  WalSyncer::Done callback() {
    return [this](uint64_t step, const Status& synced) {
      std::lock_guard lock(mu_);
      reports_.push_back({step, synced});
      changed_.notify_all();
    };
  }
  bool WaitFor(size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(5),
                             [&] { return reports_.size() >= count; });
  }
  std::vector<std::pair<uint64_t, Status>> taken() {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::pair<uint64_t, Status>> reports_;
};

RecordBatch One(const std::string& key) {
  RecordBatch batch;
  batch.Put(key, "v");
  return batch;
}

TEST(WalSyncerTest, ASyncCoversEveryWriteBeforeItsRequest) {
  MemoryStorage disk;
  Reports reports;
  WalSyncer syncer(&disk, reports.callback());
  ASSERT_TRUE(disk.Write(One("a"), {.sync = false}).ok());
  ASSERT_TRUE(disk.Write(One("b"), {.sync = false}).ok());
  syncer.Request(2);
  ASSERT_TRUE(reports.WaitFor(1));
  const auto got = reports.taken();
  EXPECT_EQ(got.back().first, 2u);
  EXPECT_TRUE(got.back().second.ok());
  // Both writes survive a crash now.
  MemoryStorage after(disk.DurableContents());
  EXPECT_TRUE(after.Get("a")->has_value());
  EXPECT_TRUE(after.Get("b")->has_value());
  // A request for what is already covered runs no sync.
  const uint64_t syncs = syncer.syncs();
  syncer.Request(1);
  syncer.Request(2);
  syncer.Stop();
  EXPECT_EQ(syncer.syncs(), syncs);
}

TEST(WalSyncerTest, EverySyncsDurationIsObservedFailedOnesToo) {
  MemoryStorage disk;
  disk.FailNextSyncs(1);
  const std::vector<double> bounds = {0.001, 1.0};
  Histogram sync_seconds(bounds);
  Reports reports;
  {
    WalSyncer syncer(&disk, reports.callback(), &sync_seconds);
    ASSERT_TRUE(disk.Write(One("a"), {.sync = false}).ok());
    syncer.Request(1);
    ASSERT_TRUE(reports.WaitFor(1));
    EXPECT_EQ(syncer.syncs(), 1u);
  }
  EXPECT_FALSE(reports.taken()[0].second.ok());
  EXPECT_EQ(sync_seconds.Read().count, 1u);
  // The loop's own syncs go through the same timing.
  EXPECT_TRUE(TimedSync(disk, &sync_seconds).ok());
  EXPECT_TRUE(TimedSync(disk, nullptr).ok());
  EXPECT_EQ(sync_seconds.Read().count, 2u);
}

TEST(WalSyncerTest, AFailedSyncIsReportedOnceAndNothingMoreIsSynced) {
  MemoryStorage disk;
  disk.FailNextSyncs(1);
  Reports reports;
  WalSyncer syncer(&disk, reports.callback());
  ASSERT_TRUE(disk.Write(One("a"), {.sync = false}).ok());
  syncer.Request(1);
  ASSERT_TRUE(reports.WaitFor(1));
  EXPECT_FALSE(reports.taken()[0].second.ok());
  ASSERT_TRUE(disk.Write(One("b"), {.sync = false}).ok());
  syncer.Request(2);
  syncer.Stop();
  EXPECT_EQ(reports.taken().size(), 1u);
  EXPECT_EQ(syncer.syncs(), 1u);
}

}  // namespace
}  // namespace meridian
