// RocksDbStorage across process death: kill -9 of a process in the middle of synced writes loses
// no acknowledged batch and leaves no batch half written (DESIGN.md section 5), and a database
// another process holds open is refused with a clear error.
//
// Children are this same binary: the parent fork()s and exec()s /proc/self/exe with
// MERIDIAN_STORE_TEST_CHILD set, and the child's role runs from a static initializer before
// gtest's main. Exec, not a bare fork: a forked copy of a process that has used RocksDB inherits
// its background thread pools without their threads (and perhaps a mutex one of them held), so
// its flushes could hang.
//
// Each batch also range-deletes the previous batches' marker keys, so recovery checks range
// deletes replay with their batch.
//
// kill -9 leaves the kernel's page cache intact, so this proves atomicity and acknowledgement
// order, not fsync; losing unsynced data to power loss is modelled by MemoryStorage.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "store/rocksdb_storage.h"
#include "store/test_temp_dir.h"

extern char** environ;

namespace meridian {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kRoleVar = "MERIDIAN_STORE_TEST_CHILD";
constexpr const char* kPathVar = "MERIDIAN_STORE_TEST_DB";
constexpr int kChildOutFd = 3;  // child -> parent: acknowledged counters, or "ready"
constexpr int kChildInFd = 4;   // parent -> child: end of file means "close and exit"
// A child writes at most this many batches, so one whose parent never kills it still ends.
constexpr uint64_t kMaxBatchesPerChild = 1'000'000;
// 4 KiB values make each batch span WAL blocks (32 KiB), so a kill can tear one mid-append.
constexpr size_t kValueBytes = 4096;
// Load time before the kill: long enough for hundreds of synced batches and a memtable flush.
constexpr milliseconds kLoadBeforeKill{300};
// Bound on waiting for a child to start (exec, open RocksDB); generous for a loaded machine.
constexpr milliseconds kChildStartMax{20'000};

std::string BatchKey(uint64_t counter, char part) {
  char key[32];
  std::snprintf(key, sizeof key, "batch/%010" PRIu64 "/%c", counter, part);
  return key;
}

std::string BatchValue(uint64_t counter, char part) {
  return std::to_string(counter) + part + std::string(kValueBytes, part);
}

// A key each batch puts while it range-deletes every earlier batch's, so exactly the recovered
// batch's one survives: a range delete replays from the WAL with its batch, whole or not at all.
std::string TrashKey(uint64_t counter) {
  char key[32];
  std::snprintf(key, sizeof key, "trash/%010" PRIu64, counter);
  return key;
}

// One batch: the counter record plus three keys that must appear and disappear with it.
RecordBatch CrashBatch(uint64_t counter) {
  RecordBatch batch;
  batch.Put("counter", std::to_string(counter));
  for (char part : {'a', 'b', 'c'})
    batch.Put(BatchKey(counter, part), BatchValue(counter, part));
  batch.DeleteRange("trash/", TrashKey(counter));
  batch.Put(TrashKey(counter), "");
  return batch;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// --- Child roles -------------------------------------------------------------------------------

std::unique_ptr<RocksDbStorage> ChildOpen(const char* path) {
  auto opened = RocksDbStorage::Open(path, RocksDbOptions::ForTest());
  if (!opened.ok()) {
    std::fprintf(stderr, "child: %s\n", opened.status().ToString().c_str());
    _exit(2);
  }
  return std::move(opened).value();
}

// Continues the counter found in the database; acknowledges each synced batch on kChildOutFd.
[[noreturn]] void RunWriter(const char* path) {
  auto db = ChildOpen(path);
  auto last = db->Get("counter");
  uint64_t counter = last.ok() && last->has_value() ? std::stoull(**last) : 0;
  for (uint64_t i = 0; i < kMaxBatchesPerChild; ++i) {
    ++counter;
    if (!db->Write(CrashBatch(counter), {.sync = true}).ok()) _exit(3);
    if (!WriteAll(kChildOutFd, &counter, sizeof counter)) _exit(4);
  }
  _exit(0);
}

// Holds the database open until the parent closes kChildInFd.
[[noreturn]] void RunHolder(const char* path) {
  auto db = ChildOpen(path);
  if (!WriteAll(kChildOutFd, "R", 1)) _exit(4);
  char ignored;
  while (read(kChildInFd, &ignored, 1) > 0) {
  }
  _exit(db->Close().ok() ? 0 : 5);
}

bool MaybeRunChildRole() {
  const char* role = std::getenv(kRoleVar);
  const char* path = std::getenv(kPathVar);
  if (role == nullptr || path == nullptr) return false;
  if (std::strcmp(role, "writer") == 0) RunWriter(path);
  if (std::strcmp(role, "holder") == 0) RunHolder(path);
  _exit(126);
}

[[maybe_unused]] const bool kRanAsChild = MaybeRunChildRole();

// --- Parent side -------------------------------------------------------------------------------

// A pipe end moved to fd >= 10 and close-on-exec, so the child's dup2 onto 3 and 4 never
// collides with it and nothing else leaks into the child.
int HighFd(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  MERIDIAN_ASSERT(high >= 10);
  close(fd);
  return high;
}

struct Child {
  pid_t pid = -1;
  int from_child = -1;  // read end of the child's kChildOutFd
  int to_child = -1;    // write end of the child's kChildInFd
};

Child Spawn(const std::string& role, const std::string& path) {
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env_strings = {std::string(kRoleVar) + "=" + role,
                                          std::string(kPathVar) + "=" + path};
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  for (char** e = environ; *e != nullptr; ++e)
    envp.push_back(*e);
  envp.push_back(nullptr);
  char arg0[] = "store_test_child";
  char* argv[] = {arg0, nullptr};

  int out[2], in[2];
  MERIDIAN_ASSERT(pipe(out) == 0 && pipe(in) == 0);
  for (int* fd : {&out[0], &out[1], &in[0], &in[1]})
    *fd = HighFd(*fd);
  const pid_t pid = fork();
  MERIDIAN_ASSERT(pid >= 0);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a parent that dies (test crash) takes the child along
    if (dup2(out[1], kChildOutFd) < 0 || dup2(in[0], kChildInFd) < 0) _exit(125);
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  close(out[1]);
  close(in[0]);
  return {pid, out[0], in[1]};
}

// Reads whole 8-byte counters into `acks` until `deadline`, until `acks` holds `enough` of them,
// or until end of file; returns false at end of file.
bool ReadAcks(int fd, SteadyClock::time_point deadline, size_t enough, std::string& pending,
              std::vector<uint64_t>& acks) {
  for (;;) {
    if (acks.size() >= enough) return true;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    pending.append(buf, static_cast<size_t>(n));
    size_t whole = pending.size() / sizeof(uint64_t) * sizeof(uint64_t);
    for (size_t at = 0; at < whole; at += sizeof(uint64_t)) {
      uint64_t counter;
      std::memcpy(&counter, pending.data() + at, sizeof counter);
      acks.push_back(counter);
    }
    pending.erase(0, whole);
  }
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Runs one writer child under load, kills it with SIGKILL, returns every acknowledged counter.
std::vector<uint64_t> WriteUntilKilled(const std::string& path) {
  Child child = Spawn("writer", path);
  std::string pending;
  std::vector<uint64_t> acks;
  constexpr size_t kAll = SIZE_MAX;
  ReadAcks(child.from_child, SteadyClock::now() + kChildStartMax, 1, pending, acks);
  EXPECT_FALSE(acks.empty()) << "the writer child acknowledged nothing";
  bool alive =
      ReadAcks(child.from_child, SteadyClock::now() + kLoadBeforeKill, kAll, pending, acks);
  EXPECT_TRUE(alive) << "the writer child exited before it was killed";
  kill(child.pid, SIGKILL);
  const int status = WaitFor(child.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  // Counters the child wrote to the pipe before it died were acknowledged too.
  ReadAcks(child.from_child, SteadyClock::now() + kChildStartMax, kAll, pending, acks);
  EXPECT_TRUE(pending.empty()) << "a torn 8-byte ack in the pipe";
  close(child.from_child);
  close(child.to_child);
  return acks;
}

// Every batch up to the recovered counter is whole, none after it exists; returns the counter.
uint64_t CheckWholeBatches(Storage& db) {
  auto counter_record = db.Get("counter");
  EXPECT_TRUE(counter_record.ok() && counter_record->has_value());
  if (!counter_record.ok() || !counter_record->has_value()) return 0;
  const uint64_t counter = std::stoull(**counter_record);
  for (uint64_t i = 1; i <= counter; ++i) {
    for (char part : {'a', 'b', 'c'}) {
      auto value = db.Get(BatchKey(i, part));
      EXPECT_TRUE(value.ok() && *value == BatchValue(i, part)) << "batch " << i << part;
    }
  }
  uint64_t keys = 0;
  EXPECT_TRUE(db.Scan("batch/", [&](std::string_view, std::string_view) {
                  ++keys;
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(keys, 3 * counter) << "keys of a batch beyond the counter survived";
  std::vector<std::string> trash;
  EXPECT_TRUE(db.Scan("trash/", [&](std::string_view key, std::string_view) {
                  trash.emplace_back(key);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(trash, std::vector<std::string>{TrashKey(counter)})
      << "a range delete was lost, half applied or applied beyond its batch";
  return counter;
}

TEST(RocksDbCrashTest, KillDuringSyncedWritesLosesNoAcknowledgedBatch) {
  TestTempDir dir;
  const std::string path = dir.Sub("db");
  uint64_t recovered = 0;
  for (int round = 0; round < 3; ++round) {  // later rounds recover a DB that was killed before
    std::vector<uint64_t> acks = WriteUntilKilled(path);
    ASSERT_FALSE(acks.empty());
    for (size_t i = 0; i < acks.size(); ++i)
      ASSERT_EQ(acks[i], recovered + 1 + i);
    auto db = RocksDbStorage::Open(path, RocksDbOptions::ForTest());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    recovered = CheckWholeBatches(**db);
    EXPECT_GE(recovered, acks.back()) << "an acknowledged batch was lost";
    std::printf("round %d: %zu batches acknowledged, recovered up to %" PRIu64 "\n", round,
                acks.size(), recovered);
  }
}

TEST(RocksDbCrashTest, OpenHeldByAnotherProcessFailsClearly) {
  TestTempDir dir;
  const std::string path = dir.Sub("db");
  Child holder = Spawn("holder", path);
  pollfd ready{holder.from_child, POLLIN, 0};
  char byte = 0;
  ASSERT_EQ(poll(&ready, 1, static_cast<int>(kChildStartMax.count())), 1);
  ASSERT_EQ(read(holder.from_child, &byte, 1), 1);
  ASSERT_EQ(byte, 'R');

  auto second = RocksDbStorage::Open(path, RocksDbOptions::ForTest());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  EXPECT_NE(second.status().message().find("another process"), std::string::npos);
  std::printf("%s\n", second.status().ToString().c_str());

  close(holder.to_child);  // the holder closes the database and exits
  const int status = WaitFor(holder.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  close(holder.from_child);
  EXPECT_TRUE(RocksDbStorage::Open(path, RocksDbOptions::ForTest()).ok());  // lock released
}

}  // namespace
}  // namespace meridian
