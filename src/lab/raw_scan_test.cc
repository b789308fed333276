#include "lab/raw_scan.h"

#include <gtest/gtest.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>
#include <fstream>

namespace meridian {
namespace {

class RawScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("raw_scan_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "nested" / "deeper");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& relative, const std::string& bytes) {
    std::ofstream(dir_ / relative, std::ios::binary) << bytes;
  }
  std::filesystem::path dir_;
};

TEST(CountNeedlesTest, CountsEveryOccurrenceOfEachNeedle) {
  std::vector<uint64_t> hits(4, 0);
  CountNeedles("gdpr:a1 xx gdpr:a10 aaa", {"gdpr:a1", "gdpr:a10", "aa", "x"}, hits);
  EXPECT_EQ(hits, (std::vector<uint64_t>{2, 1, 2, 2}));  // overlapping "aa" counted twice
}

TEST(CountNeedlesTest, FindsNeedlesAtTheEdgesAndBinaryBytes) {
  const std::string bytes = std::string("k1\0\xff", 4) + "k2";
  std::vector<uint64_t> hits(3, 0);
  CountNeedles(bytes, {"k1", "k2", std::string("\0\xff", 2)}, hits);
  EXPECT_EQ(hits, (std::vector<uint64_t>{1, 1, 1}));
  std::vector<uint64_t> none(1, 0);
  CountNeedles("short", {"longer than the data"}, none);
  EXPECT_EQ(none[0], 0u);
}

TEST_F(RawScanTest, ScansEveryFileUnderEveryRootAndSingleFiles) {
  Write("000001.log", "put gdpr:user7 secret-7");
  Write("nested/deeper/MANIFEST-000002", "range gdpr:user7..gdpr:user9");
  Write("nested/clean", "nothing here");
  Write("app.log", "served secret-7");
  auto scan = ScanForNeedles(
      {(dir_ / "nested").string(), (dir_ / "000001.log").string(), (dir_ / "missing").string()},
      {"gdpr:user7", "secret-7", "absent"});
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->files, 3u);  // MANIFEST, clean, and the single file; not app.log
  EXPECT_EQ(scan->HitsOf(0), 2u);
  EXPECT_EQ(scan->HitsOf(1), 1u);
  EXPECT_EQ(scan->HitsOf(2), 0u);
  EXPECT_EQ(scan->TotalHits(), 3u);
  EXPECT_EQ(scan->NeedlesFound(), 2u);
  EXPECT_EQ(scan->files_with_hits.size(), 2u);
  ASSERT_EQ(scan->missing_roots.size(), 1u);
  EXPECT_NE(scan->missing_roots[0].find("missing"), std::string::npos);
}

TEST_F(RawScanTest, RefusesAnEmptyNeedle) {
  auto scan = ScanForNeedles({dir_.string()}, {"ok", ""});
  ASSERT_FALSE(scan.ok());
  EXPECT_NE(scan.status().message().find("empty needle"), std::string::npos);
}

// A compressed SST can hide a repeated string from the raw search; decoding its entries finds it.
TEST_F(RawScanTest, DecodesCompressedSstEntries) {
  rocksdb::Options options;
  options.compression = rocksdb::kSnappyCompression;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  const std::string path = (dir_ / "000009.sst").string();
  ASSERT_TRUE(writer.Open(path).ok());
  const std::string filler(4096, 'z');
  for (int i = 0; i < 100; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "g3/gdpr:user%03d", i);
    ASSERT_TRUE(writer.Put(key, filler + "secret-value-" + std::to_string(i) + filler).ok());
  }
  ASSERT_TRUE(writer.Finish().ok());
  auto scan = ScanForNeedles({dir_.string()}, {"gdpr:user042", "secret-value-42z"});
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->sst_decoded, 1u);
  EXPECT_EQ(scan->sst_entries, 100u);
  EXPECT_EQ(scan->decoded_hits, (std::vector<uint64_t>{1, 1}));
  EXPECT_TRUE(scan->unreadable.empty());
}

TEST_F(RawScanTest, ListsAnSstThatCannotBeDecoded) {
  Write("000010.sst", "not an sst, but gdpr:user1 in raw bytes");
  auto scan = ScanForNeedles({dir_.string()}, {"gdpr:user1"});
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->raw_hits[0], 1u);
  ASSERT_EQ(scan->unreadable.size(), 1u);
  EXPECT_NE(scan->unreadable[0].find("000010.sst"), std::string::npos);
}

}  // namespace
}  // namespace meridian
