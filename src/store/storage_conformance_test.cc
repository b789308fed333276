// One suite for every Storage implementation: each must keep the contract of base/storage.h the
// same way, so what the simulator proves on MemoryStorage holds for the server on RocksDB.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/storage.h"
#include "store/memory_storage.h"
#include "store/rocksdb_storage.h"
#include "store/test_temp_dir.h"

namespace meridian {
namespace {

using namespace std::string_literals;  // "..."s keeps embedded NUL bytes
using Entries = std::vector<std::pair<std::string, std::string>>;

struct MemoryFactory {
  std::unique_ptr<Storage> Make() { return std::make_unique<MemoryStorage>(); }
};

struct RocksDbFactory {
  TestTempDir dir;
  std::unique_ptr<Storage> Make() {
    auto opened = RocksDbStorage::Open(dir.Sub("db"), RocksDbOptions::ForTest());
    MERIDIAN_ASSERT_MSG(opened.ok(), opened.status().ToString().c_str());
    return std::move(opened).value();
  }
};

struct FactoryNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryFactory> ? "Memory" : "RocksDb";
  }
};

template <typename Factory>
class StorageConformanceTest : public testing::Test {
 protected:
  std::optional<std::string> Get(std::string_view key) {
    auto got = storage_->Get(key);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : std::nullopt;
  }

  Entries ScanAll(std::string_view prefix) {
    Entries out;
    Status s = storage_->Scan(prefix, [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  void Put(std::string key, std::string value, bool sync = true) {
    RecordBatch batch;
    batch.Put(std::move(key), std::move(value));
    ASSERT_TRUE(storage_->Write(batch, {.sync = sync}).ok());
  }

  Factory factory_;
  std::unique_ptr<Storage> storage_ = factory_.Make();
};

using Implementations = testing::Types<MemoryFactory, RocksDbFactory>;
TYPED_TEST_SUITE(StorageConformanceTest, Implementations, FactoryNames);

TYPED_TEST(StorageConformanceTest, PutGetDelete) {
  EXPECT_EQ(this->Get("k"), std::nullopt);
  this->Put("k", "v1");
  EXPECT_EQ(this->Get("k"), "v1");
  this->Put("k", "v2");
  EXPECT_EQ(this->Get("k"), "v2");
  RecordBatch del;
  del.Delete("k");
  del.Delete("never-written");  // deleting an absent key is not an error
  ASSERT_TRUE(this->storage_->Write(del).ok());
  EXPECT_EQ(this->Get("k"), std::nullopt);
}

TYPED_TEST(StorageConformanceTest, BatchAppliesInOrderLastMutationWins) {
  this->Put("gone", "x");
  RecordBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "1");
  batch.Delete("a");
  batch.Put("b", "2");
  batch.Delete("gone");
  batch.Put("c", "3");
  ASSERT_TRUE(this->storage_->Write(batch).ok());
  EXPECT_EQ(this->ScanAll(""), (Entries{{"b", "2"}, {"c", "3"}}));
}

TYPED_TEST(StorageConformanceTest, DeleteRangeRemovesExactlyTheHalfOpenRange) {
  for (const std::string& key : {"a"s, "b"s, "b\0"s, "b\x01"s, "bz\xff"s, "c"s, "c\0"s, "\xff"s})
    this->Put(key, "v");
  RecordBatch batch;
  batch.DeleteRange("b", "c");  // b, b\0, b\x01 and bz\xff; not c, the end, nor c\0 after it
  ASSERT_EQ(batch.mutations.size(), 1u);
  ASSERT_TRUE(this->storage_->Write(batch).ok());
  Entries left = {{"a", "v"}, {"c", "v"}, {"c\0"s, "v"}, {"\xff", "v"}};
  EXPECT_EQ(this->ScanAll(""), left);
  EXPECT_EQ(this->Get("b"), std::nullopt);

  RecordBatch nothing;
  nothing.DeleteRange("c", "c");  // empty
  nothing.DeleteRange("z", "a");  // reversed: empty too
  EXPECT_TRUE(nothing.empty());   // RecordBatch records no empty range ...
  // ... and a Storage given one anyway deletes nothing and does not fail.
  nothing.mutations.push_back({"z", std::nullopt, "a"});
  nothing.mutations.push_back({"c", std::nullopt, "c"});
  EXPECT_TRUE(this->storage_->Write(nothing).ok());
  EXPECT_EQ(this->ScanAll(""), left);

  RecordBatch everything;
  everything.DeleteRange(""s, "\xff\xff"s);
  ASSERT_TRUE(this->storage_->Write(everything, {.sync = false}).ok());
  EXPECT_EQ(this->ScanAll(""), Entries{});
}

TYPED_TEST(StorageConformanceTest, DeleteRangeAppliesInBatchOrder) {
  this->Put("r/1", "old");
  this->Put("r/4", "old");
  RecordBatch batch;
  batch.Put("r/2", "before");  // put before the range delete: removed by it
  batch.Put("r/3", "before");
  batch.DeleteRange("r/", "r/4");
  batch.Put("r/3", "after");  // put after it: kept
  batch.Put("r/1", "after");
  ASSERT_TRUE(this->storage_->Write(batch, {.sync = false}).ok());
  EXPECT_EQ(this->ScanAll("r/"), (Entries{{"r/1", "after"}, {"r/3", "after"}, {"r/4", "old"}}));
  EXPECT_TRUE(this->storage_->Sync().ok());
  EXPECT_EQ(this->ScanAll("r/"), (Entries{{"r/1", "after"}, {"r/3", "after"}, {"r/4", "old"}}));
}

TYPED_TEST(StorageConformanceTest, EmptyBatchIsOkAndChangesNothing) {
  this->Put("k", "v");
  EXPECT_TRUE(this->storage_->Write(RecordBatch{}, {.sync = true}).ok());
  EXPECT_TRUE(this->storage_->Write(RecordBatch{}, {.sync = false}).ok());
  EXPECT_EQ(this->ScanAll(""), (Entries{{"k", "v"}}));
}

TYPED_TEST(StorageConformanceTest, UnsyncedWriteIsVisibleAtOnce) {
  this->Put("k", "v", /*sync=*/false);
  EXPECT_EQ(this->Get("k"), "v");
}

TYPED_TEST(StorageConformanceTest, SyncKeepsUnsyncedWritesAndTheirOrder) {
  this->Put("k", "1", /*sync=*/false);
  this->Put("k", "2", /*sync=*/false);
  EXPECT_TRUE(this->storage_->Sync().ok());
  EXPECT_EQ(this->Get("k"), "2");
  EXPECT_TRUE(this->storage_->Sync().ok());  // nothing new to sync is fine
}

TYPED_TEST(StorageConformanceTest, ScanIsAscendingByteOrderWithinPrefix) {
  // Unsigned byte order: "\xff" sorts after every ASCII byte, "\0" before.
  for (const std::string& key :
       {"b"s, "ab\xff"s, "abc"s, "a"s, "ab\0"s, "ab"s, "ac"s, "a\xff\xff"s, "\xff\xff"s, "aa"s}) {
    this->Put(key, "v:" + key);
  }
  auto keys = [&](std::string_view prefix) {
    std::vector<std::string> out;
    for (auto& [k, v] : this->ScanAll(prefix)) {
      EXPECT_EQ(v, "v:" + k);
      out.push_back(k);
    }
    return out;
  };
  using Keys = std::vector<std::string>;
  EXPECT_EQ(keys("ab"), (Keys{"ab", "ab\0"s, "abc", "ab\xff"}));
  EXPECT_EQ(keys("a"), (Keys{"a", "aa", "ab", "ab\0"s, "abc", "ab\xff", "ac", "a\xff\xff"}));
  EXPECT_EQ(keys("a\xff"), (Keys{"a\xff\xff"}));  // a prefix ending in 0xff has no successor byte
  EXPECT_EQ(keys("\xff"), (Keys{"\xff\xff"}));
  EXPECT_EQ(keys("zz"), Keys{});
  EXPECT_EQ(keys("").size(), 10u);
  EXPECT_EQ(keys("").front(), "a");
  EXPECT_EQ(keys("").back(), "\xff\xff");
}

TYPED_TEST(StorageConformanceTest, ScanStopsAtFirstVisitorError) {
  for (const char* key : {"p1", "p2", "p3"})
    this->Put(key, "v");
  std::vector<std::string> seen;
  Status s = this->storage_->Scan("p", [&](std::string_view k, std::string_view) {
    seen.emplace_back(k);
    return k == "p2" ? Aborted("enough") : Status::Ok();
  });
  EXPECT_EQ(s, Aborted("enough"));
  EXPECT_EQ(seen, (std::vector<std::string>{"p1", "p2"}));
}

TYPED_TEST(StorageConformanceTest, ScanVisitorMayWrite) {
  this->Put("src/1", "a");
  this->Put("src/2", "b");
  Status s = this->storage_->Scan("src/", [&](std::string_view k, std::string_view v) {
    RecordBatch copy;
    copy.Put("dst/" + std::string(k.substr(4)), std::string(v));
    return this->storage_->Write(copy);
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(this->ScanAll("dst/"), (Entries{{"dst/1", "a"}, {"dst/2", "b"}}));
}

TYPED_TEST(StorageConformanceTest, BinaryKeysAndValuesWithNulBytes) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b)
    all_bytes.push_back(static_cast<char>(b));
  const std::string key = "k\0ey\0"s;
  this->Put(key, all_bytes);
  this->Put("k"s, "short");  // a prefix of `key` up to its first NUL: a different key
  EXPECT_EQ(this->Get(key), all_bytes);
  EXPECT_EQ(this->Get("k"), "short");
  EXPECT_EQ(this->ScanAll("k\0"s), (Entries{{key, all_bytes}}));
}

TYPED_TEST(StorageConformanceTest, LargeValues) {
  std::string one_mib(1 << 20, '\0');
  for (size_t i = 0; i < one_mib.size(); ++i)
    one_mib[i] = static_cast<char>(i * 131 % 251);
  const std::string four_mib = one_mib + one_mib + one_mib + one_mib + "tail";
  RecordBatch batch;
  batch.Put("big/1", one_mib);
  batch.Put("big/4", four_mib);
  ASSERT_TRUE(this->storage_->Write(batch).ok());
  EXPECT_EQ(this->Get("big/1"), one_mib);
  EXPECT_EQ(this->Get("big/4"), four_mib);
  EXPECT_EQ(this->ScanAll("big/"), (Entries{{"big/1", one_mib}, {"big/4", four_mib}}));
}

TYPED_TEST(StorageConformanceTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 4;
  constexpr int kWritesPerThread = 25;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        RecordBatch batch;
        batch.Put("w/" + std::to_string(t) + "/" + std::to_string(i), "v");
        EXPECT_TRUE(this->storage_->Write(batch).ok());
      }
    });
  }
  for (auto& w : writers)
    w.join();
  EXPECT_EQ(this->ScanAll("w/").size(), size_t{kThreads * kWritesPerThread});
}

// Random batches against a std::map model: Get and Scan agree after every batch. Each case
// works under its own key prefix, so cases share one (slow to open) database.
TYPED_TEST(StorageConformanceTest, MatchesMapModel) {
  int case_number = 0;
  bool ok = rc::check([&] {
    const std::string root = "case" + std::to_string(case_number++) + "/";
    std::map<std::string, std::string> model;
    const auto batches = *rc::gen::container<std::vector<std::vector<std::pair<int, int>>>>(
        rc::gen::container<std::vector<std::pair<int, int>>>(
            rc::gen::pair(rc::gen::inRange(0, 6), rc::gen::inRange(-3, 3))));
    auto key_of = [&](int k) {
      return root + std::string(1, "\0a\xff"[k % 3]) + std::to_string(k);
    };
    for (const auto& mutations : batches) {
      RecordBatch batch;
      for (auto [k, v] : mutations) {
        // Keys include NUL and 0xff bytes; v == -1 deletes; v == -2 and -3 delete a range from
        // the key to another key (empty when that one sorts first) or to the end of the case.
        std::string key = key_of(k);
        if (v <= -2) {
          const std::string end = v == -2 ? key_of((k + 2) % 6) : root + "\xff\xff";
          batch.DeleteRange(key, end);
          if (key < end) model.erase(model.lower_bound(key), model.lower_bound(end));
        } else if (v < 0) {
          batch.Delete(key);
          model.erase(key);
        } else {
          batch.Put(key, std::string(v, '\0') + "x");
          model[key] = std::string(v, '\0') + "x";
        }
      }
      RC_ASSERT(this->storage_->Write(batch, {.sync = false}).ok());
      RC_ASSERT(this->ScanAll(root) == Entries(model.begin(), model.end()));
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace meridian
