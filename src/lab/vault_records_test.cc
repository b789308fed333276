#include "lab/vault_records.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

namespace meridian {
namespace {

// VaultStore's wrapping (src/server/vault_store.cc), redone here so the test checks the format
// the lab reads rather than the lab's own code.
std::string Wrap(const std::string& master, const std::string& key, const std::string& plain) {
  const size_t nonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::string out(nonce + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(bytes, nonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      bytes + nonce, &written, reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, bytes,
      reinterpret_cast<const unsigned char*>(master.data()));
  return out;
}

std::string RecordKey(const std::string& subject, char id_last) {
  std::string key = SubjectVaultPrefix(subject);
  key += std::string(7, '\0');
  key.push_back(id_last);
  return key;
}

class VaultRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    dir_ = std::filesystem::temp_directory_path() /
           ("vault_records_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    master_.assign(32, '\0');
    randombytes_buf(master_.data(), master_.size());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string master_;
};

TEST_F(VaultRecordsTest, UnwrapsWhatTheVaultWrapsAndNothingElse) {
  const std::string data_key(32, 'k');
  const VaultRecord record{RecordKey("alice", 1), Wrap(master_, RecordKey("alice", 1), data_key)};
  auto opened = UnwrapVaultRecord(master_, record);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, data_key);

  VaultRecord moved = record;  // the associated data binds a record to its key
  moved.key = RecordKey("alice", 2);
  EXPECT_FALSE(UnwrapVaultRecord(master_, moved).ok());
  std::string other(32, 'o');
  EXPECT_FALSE(UnwrapVaultRecord(other, record).ok());
  EXPECT_FALSE(UnwrapVaultRecord(master_, VaultRecord{record.key, "short"}).ok());
}

TEST_F(VaultRecordsTest, ReadsOneSubjectsRecordsAndItsMarkerReadOnly) {
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.string(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteOptions write;
    ASSERT_TRUE(db->Put(write, RecordKey("alice", 1), "w1").ok());
    ASSERT_TRUE(db->Put(write, RecordKey("alice", 2), "w2").ok());
    ASSERT_TRUE(db->Put(write, SubjectVaultPrefix("alice"), "").ok());  // erased marker
    ASSERT_TRUE(db->Put(write, RecordKey("alice2", 1), "other").ok());  // another subject
    ASSERT_TRUE(db->Put(write, RecordKey("bob", 1), "bob").ok());
  }
  auto read = ReadSubjectKeyRecords(dir_.string(), "alice");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->data_keys.size(), 2u);
  EXPECT_EQ(read->data_keys[0].wrapped, "w1");
  EXPECT_EQ(read->data_keys[1].wrapped, "w2");
  EXPECT_TRUE(read->erased_marker);
  auto bob = ReadSubjectKeyRecords(dir_.string(), "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(bob->data_keys.size(), 1u);
  EXPECT_FALSE(bob->erased_marker);
  EXPECT_FALSE(ReadSubjectKeyRecords((dir_ / "missing").string(), "alice").ok());
}

TEST_F(VaultRecordsTest, MasterKeyFileMustHold32Bytes) {
  std::ofstream(dir_ / "ok.master.key", std::ios::binary) << master_;
  std::ofstream(dir_ / "bad.master.key", std::ios::binary) << "short";
  auto ok = ReadMasterKeyFile((dir_ / "ok.master.key").string());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, master_);
  EXPECT_FALSE(ReadMasterKeyFile((dir_ / "bad.master.key").string()).ok());
  EXPECT_FALSE(ReadMasterKeyFile((dir_ / "none.master.key").string()).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.master.key"));  // never made
}

}  // namespace
}  // namespace meridian
