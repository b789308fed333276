#include "server/commit_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/memory_storage.h"

namespace meridian {
namespace {

// MemoryStorage whose Sync() waits until the test opens the gate, to act while an fsync is in
// flight.
class GatedSyncStorage : public Storage {
 public:
  Status Write(const RecordBatch& batch, WriteOptions options) override {
    return inner.Write(batch, options);
  }
  Status Sync() override {
    {
      std::unique_lock lock(mu_);
      syncing_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    }
    return inner.Sync();
  }
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return inner.Get(key);
  }
  Status Scan(
      std::string_view prefix,
      const std::function<Status(std::string_view, std::string_view)>& visit) const override {
    return inner.Scan(prefix, visit);
  }
  bool WaitUntilSyncing() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [this] { return syncing_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

  MemoryStorage inner;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool syncing_ = false;
  bool open_ = false;
};

RecordBatch One(const std::string& key, const std::string& value) {
  RecordBatch batch;
  batch.Put(key, value);
  return batch;
}

// Polls `done` every millisecond for up to 5 s; true once it holds.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 5000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

// Keys in the order their callbacks ran, from any thread.
class KeyLog {
 public:
  // A callback that expects OK, runs `check`, then logs `key`.
  CommitPipeline::Release Log(std::string key, std::function<void()> check = nullptr) {
    return [this, key, check = std::move(check)](const Status& durable) {
      EXPECT_TRUE(durable.ok()) << key << ": " << durable.ToString();
      if (check) check();
      std::lock_guard lock(mu_);
      keys_.push_back(key);
      cv_.notify_all();
    };
  }
  // The keys logged, once there are `count` (waits up to 10 s).
  std::vector<std::string> WaitFor(size_t count) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return keys_.size() >= count; });
    return keys_;
  }
  std::vector<std::string> keys() {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> keys_;
};

TEST(CommitPipelineTest, ReleasesInSubmitOrderAfterTheRecordsAreDurable) {
  MemoryStorage storage;
  std::mutex mu;
  std::vector<int> released;
  {
    CommitPipeline pipeline(&storage);
    for (int i = 0; i < 200; ++i) {
      pipeline.Submit(One("k" + std::to_string(i), "v"), [&, i](const Status& durable) {
        ASSERT_TRUE(durable.ok()) << durable.ToString();
        // Everything up to and including this step is on the disk a crash would leave.
        const auto disk = storage.DurableContents();
        for (int j = 0; j <= i; ++j)
          ASSERT_TRUE(disk.count("k" + std::to_string(j))) << j;
        std::lock_guard lock(mu);
        released.push_back(i);
      });
    }
    pipeline.Stop();
    EXPECT_TRUE(pipeline.Quiescent());
    const CommitPipelineStats stats = pipeline.stats();
    EXPECT_EQ(stats.steps, 200u);
    EXPECT_GE(stats.writes, 1u);
    EXPECT_LE(stats.writes, 200u);
    EXPECT_EQ(stats.syncs, stats.writes);  // one synced write per group
  }
  ASSERT_EQ(released.size(), 200u);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(released[i], i);
}

TEST(CommitPipelineTest, GroupsConcurrentSubmitsIntoFewerWrites) {
  MemoryStorage storage;
  CommitPipeline pipeline(&storage);
  // Hold the committer in its first release so the next steps pile up behind it.
  std::mutex gate;
  gate.lock();
  pipeline.Submit(One("first", "v"), [&](const Status&) { std::lock_guard wait(gate); });
  for (int i = 0; i < 50; ++i)
    pipeline.Submit(One("k" + std::to_string(i), "v"), nullptr);
  gate.unlock();
  pipeline.Stop();
  const CommitPipelineStats stats = pipeline.stats();
  EXPECT_EQ(stats.steps, 51u);
  EXPECT_LE(stats.syncs, 3u);  // the first step, then the 50 waiting ones together
  EXPECT_GE(stats.max_group, 25u);
}

TEST(CommitPipelineTest, AFailedWriteFailsThatStepAndEveryLaterOne) {
  MemoryStorage storage;
  CommitPipeline pipeline(&storage);
  std::vector<StatusCode> codes;
  std::mutex mu;
  auto record = [&](const Status& s) {
    std::lock_guard lock(mu);
    codes.push_back(s.code());
  };
  pipeline.Submit(One("a", "1"), record);
  pipeline.Stop();  // drain so the next Write is the one that fails
  EXPECT_EQ(codes, std::vector<StatusCode>{StatusCode::kOk});

  MemoryStorage failing;
  failing.FailNextWrites(1);
  CommitPipeline second(&failing);
  codes.clear();
  second.Submit(One("b", "1"), record);
  // Wait until the failure is recorded, bounded.
  Eventually([&] { return !second.failure().ok(); });
  ASSERT_FALSE(second.failure().ok());
  second.Submit(One("c", "1"), record);  // the disk would take it now, but order forbids it
  second.Stop();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_NE(codes[0], StatusCode::kOk);
  EXPECT_EQ(codes[1], StatusCode::kFailedPrecondition);
  EXPECT_FALSE(failing.DurableContents().count("b"));
  EXPECT_FALSE(failing.DurableContents().count("c"));
}

TEST(CommitPipelineTest, StepsQueuedBeforeTheFailureWasSeenFailToo) {
  MemoryStorage storage;
  storage.FailNextWrites(1);
  std::vector<StatusCode> codes;
  std::mutex mu;
  auto record = [&](const Status& s) {
    std::lock_guard lock(mu);
    codes.push_back(s.code());
  };
  std::atomic<bool> first_released{false};
  std::mutex gate;
  gate.lock();
  CommitPipeline pipeline(&storage);
  pipeline.Submit(One("a", "1"), [&](const Status& s) {
    record(s);
    first_released = true;
    std::lock_guard wait(gate);  // hold the committer inside the failed group's releases
  });
  Eventually([&] { return first_released.load(); });
  ASSERT_TRUE(first_released);
  // The disk would take "b" now, but it must not be acknowledged after "a" failed.
  pipeline.Submit(One("b", "1"), record);
  gate.unlock();
  pipeline.Stop();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], StatusCode::kUnavailable);
  EXPECT_EQ(codes[1], StatusCode::kFailedPrecondition);
  EXPECT_TRUE(storage.DurableContents().empty());
}

TEST(CommitPipelineTest, PublishRunsAfterTheGroupsSyncedWriteInOrder) {
  MemoryStorage storage;
  std::mutex mu;
  std::vector<std::string> events;
  auto log = [&](std::string event, std::string key) {
    return [&, event, key](const Status& durable) {
      EXPECT_TRUE(durable.ok());
      EXPECT_TRUE(storage.DurableContents().count(key)) << event;
      std::lock_guard lock(mu);
      events.push_back(event);
    };
  };
  {
    CommitPipeline pipeline(&storage);
    pipeline.Submit(One("a", "v"), log("release a", "a"), log("publish a", "a"));
    pipeline.Submit(One("b", "v"), log("release b", "b"), log("publish b", "b"));
    pipeline.Stop();
  }
  EXPECT_EQ(events, (std::vector<std::string>{"release a", "publish a", "release b", "publish b"}));
}

TEST(CommitPipelineTest, SubmitAfterStopIsCancelledAtOnce) {
  MemoryStorage storage;
  CommitPipeline pipeline(&storage);
  pipeline.Stop();
  StatusCode code = StatusCode::kOk;
  pipeline.Submit(One("a", "1"), [&](const Status& s) { code = s.code(); });
  EXPECT_EQ(code, StatusCode::kCancelled);
  EXPECT_TRUE(storage.DurableContents().empty());
}

CommitPipelineOptions Periodic(int interval_ms) {
  return {.wal_sync = WalSync::kPeriodic, .sync_interval_ms = interval_ms};
}

TEST(CommitPipelinePeriodicTest, ReleasesInsideSubmitInOrderAndSyncsWithinTheInterval) {
  MemoryStorage storage;
  CommitPipeline pipeline(&storage, Periodic(5));
  std::vector<int> released;
  for (int i = 0; i < 100; ++i) {
    pipeline.Submit(One("k" + std::to_string(i), "v"), [&, i](const Status& durable) {
      EXPECT_TRUE(durable.ok()) << durable.ToString();
      // Written (the kernel has it) before the client hears of it.
      EXPECT_EQ(*storage.Get("k" + std::to_string(i)), std::optional<std::string>("v"));
      released.push_back(i);
    });
    ASSERT_EQ(released.size(), static_cast<size_t>(i + 1)) << "released after Submit returned";
    EXPECT_TRUE(pipeline.Quiescent());
  }
  // The background sync makes them survive a power loss, bounded in time.
  bool synced = false;
  for (int i = 0; i < 2000 && !synced; ++i) {
    synced = storage.DurableContents().count("k99") > 0;
    if (!synced) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(synced);
  EXPECT_GE(pipeline.stats().syncs, 1u);
  EXPECT_EQ(pipeline.stats().steps, 100u);
}

TEST(CommitPipelinePeriodicTest, StopSyncsEverythingAcknowledged) {
  MemoryStorage storage;
  // An interval far longer than the test: only Stop's final sync can make these durable.
  CommitPipeline pipeline(&storage, Periodic(60'000));
  int acknowledged = 0;
  for (int i = 0; i < 10; ++i)
    pipeline.Submit(One("k" + std::to_string(i), "v"),
                    [&](const Status& s) { acknowledged += s.ok() ? 1 : 0; });
  EXPECT_EQ(acknowledged, 10);
  EXPECT_EQ(storage.DurableContents().size(), 0u);
  pipeline.Stop();
  EXPECT_EQ(storage.DurableContents().size(), 10u);
  StatusCode after = StatusCode::kOk;
  pipeline.Submit(One("late", "v"), [&](const Status& s) { after = s.code(); });
  EXPECT_EQ(after, StatusCode::kCancelled);
  EXPECT_FALSE(*storage.Get("late"));
}

TEST(CommitPipelinePeriodicTest, ASyncedStepWaitsForAnFsyncStartedAtOnceAndLaterStepsQueueBehind) {
  MemoryStorage storage;
  // An interval far longer than the test: only the synced step can cause a sync in time.
  CommitPipeline pipeline(&storage, Periodic(60'000));
  KeyLog released;
  pipeline.Submit(One("early", "v"), released.Log("early"));
  EXPECT_EQ(released.keys(), std::vector<std::string>{"early"});  // released inside Submit
  pipeline.Submit(One("vote", "v"),
                  released.Log("vote",
                               [&] {
                                 // Its own record and every earlier one are on the disk a crash
                                 // leaves.
                                 const auto disk = storage.DurableContents();
                                 EXPECT_TRUE(disk.count("vote"));
                                 EXPECT_TRUE(disk.count("early"));
                               }),
                  nullptr, Durability::kSynced);
  pipeline.Submit(One("after", "v"), released.Log("after"));
  EXPECT_EQ(released.WaitFor(3), (std::vector<std::string>{"early", "vote", "after"}));
  // Once the queue is empty, steps are released inside Submit again.
  ASSERT_TRUE(Eventually([&] { return pipeline.Quiescent(); }));
  pipeline.Submit(One("later", "v"), released.Log("later"));
  EXPECT_EQ(released.keys().back(), "later");
}

TEST(CommitPipelinePeriodicTest, AFailedSyncFailsTheSyncedStepAndEveryLaterOne) {
  MemoryStorage storage;
  storage.FailNextSyncs(1);
  CommitPipeline pipeline(&storage, Periodic(60'000));
  std::mutex mu;
  std::vector<StatusCode> codes;
  auto record = [&](const Status& s) {
    std::lock_guard lock(mu);
    codes.push_back(s.code());
  };
  pipeline.Submit(One("vote", "1"), record, nullptr, Durability::kSynced);
  Eventually([&] { return !pipeline.failure().ok(); });
  ASSERT_FALSE(pipeline.failure().ok());
  pipeline.Submit(One("after", "1"), record);
  pipeline.Stop();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], StatusCode::kUnavailable);
  EXPECT_EQ(codes[1], StatusCode::kFailedPrecondition);
  EXPECT_TRUE(storage.DurableContents().empty());
  EXPECT_FALSE(*storage.Get("after"));  // nothing written after the failure
}

TEST(CommitPipelinePeriodicTest, PublishWaitsForAnFsyncStartedAtOnceReleaseDoesNot) {
  MemoryStorage storage;
  CommitPipeline pipeline(&storage, Periodic(60'000));
  KeyLog published;
  int released = 0;
  for (std::string key : {"a", "b", "c"}) {
    pipeline.Submit(
        One(key, "v"), [&](const Status& s) { released += s.ok() ? 1 : 0; },
        published.Log(key, [&storage, key] {
          // What a peer would receive is on the disk a power loss leaves.
          EXPECT_TRUE(storage.DurableContents().count(key)) << key;
        }));
  }
  EXPECT_EQ(released, 3);             // inside Submit, as periodic mode promises
  EXPECT_TRUE(pipeline.Quiescent());  // reads do not wait for publishes
  EXPECT_EQ(published.WaitFor(3), (std::vector<std::string>{"a", "b", "c"}));
  // The committer does its bookkeeping after the publishes it released (and b and c may have
  // needed a second fsync): wait until it is idle, bounded.
  ASSERT_TRUE(Eventually([&] { return pipeline.Idle(); }));
  ASSERT_GE(pipeline.stats().syncs, 1u);
  // With nothing unsynced and nothing before it, a publish goes out at once.
  bool at_once = false;
  pipeline.Submit({}, nullptr, [&](const Status& s) { at_once = s.ok(); });
  EXPECT_TRUE(at_once);
}

TEST(CommitPipelinePeriodicTest, APublishDoesNotOvertakeAnFsyncInFlight) {
  GatedSyncStorage storage;
  CommitPipeline pipeline(&storage, Periodic(5));
  pipeline.Submit(One("a", "v"), nullptr);  // released at once; the interval's fsync follows
  ASSERT_TRUE(storage.WaitUntilSyncing());
  // Nothing is left unsynced or queued now, but "a" is not durable until the fsync in flight
  // returns; a message sent now could carry it.
  std::atomic<bool> published{false};
  pipeline.Submit({}, nullptr, [&](const Status& durable) {
    EXPECT_TRUE(durable.ok());
    EXPECT_TRUE(storage.inner.DurableContents().count("a"));
    published = true;
  });
  EXPECT_FALSE(published);
  storage.Open();
  pipeline.Stop();
  EXPECT_TRUE(published);
}

TEST(CommitPipelinePeriodicTest, AFailedWriteFailsThatStepAndEveryLaterOne) {
  MemoryStorage storage;
  storage.FailNextWrites(1);
  CommitPipeline pipeline(&storage, Periodic(5));
  std::vector<StatusCode> codes;
  auto record = [&](const Status& s) { codes.push_back(s.code()); };
  pipeline.Submit(One("a", "1"), record);
  pipeline.Submit(One("b", "1"), record);  // the disk would take it now, but order forbids it
  pipeline.Stop();
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_NE(codes[0], StatusCode::kOk);
  EXPECT_EQ(codes[1], StatusCode::kFailedPrecondition);
  EXPECT_FALSE(*storage.Get("a"));
  EXPECT_FALSE(*storage.Get("b"));
  EXPECT_FALSE(pipeline.failure().ok());
}

}  // namespace
}  // namespace meridian
