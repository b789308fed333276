// storage_benchmark: synced Write throughput of RocksDbStorage with 1, 2, 4 and 8 writer threads,
// the evidence that concurrent synced writers share fsyncs (group commit, rocksdb_storage.h
// invariant 3).
//
// Three variants, each on its own database:
//   Grouped     RocksDbOptions defaults: RocksDB's write thread groups concurrent writers.
//   Pipelined   the same with pipelined_write = true.
//   Serialized  a mutex around Write, as a wrapper that "protects" the database would add: each
//               writer syncs alone. The control: what defeating group commit costs.
// Group commit shows as throughput rising with threads for Grouped/Pipelined while Serialized
// stays flat, and as writes_per_sync (synced Writes per WAL fsync, from RocksDB's statistics)
// rising above 1.
//
// Run:  storage_benchmark [--db_dir=DIR] [Google Benchmark flags]
// DIR (default: a fresh directory under $TMPDIR, removed afterwards) must be on the disk being
// measured; on tmpfs an fsync costs nothing and the numbers mean nothing.
#include <benchmark/benchmark.h>
#include <stdlib.h>  // mkdtemp

#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "store/rocksdb_storage.h"

namespace meridian {
namespace {

enum Variant : int64_t { kGrouped = 0, kPipelined = 1, kSerialized = 2 };
constexpr const char* kVariantNames[] = {"Grouped", "Pipelined", "Serialized"};

// About what a replica step persists: a record of an op's size.
constexpr size_t kValueBytes = 128;

// Opened by main before any benchmark runs, so writer threads never race to open them.
std::unique_ptr<RocksDbStorage> g_dbs[3];
std::mutex g_serialize;  // only for kSerialized

void OpenAll(const std::string& dir) {
  for (int variant : {kGrouped, kPipelined, kSerialized}) {
    RocksDbOptions options;  // production defaults, not ForTest: this measures what ships
    options.collect_statistics = true;
    options.pipelined_write = variant == kPipelined;
    auto opened = RocksDbStorage::Open(dir + "/" + kVariantNames[variant], options);
    MERIDIAN_ASSERT_MSG(opened.ok(), opened.status().ToString().c_str());
    g_dbs[variant] = std::move(opened).value();
  }
}

RocksDbWriteStats Stats(const RocksDbStorage& db) {
  auto stats = db.WriteStats();
  MERIDIAN_ASSERT(stats.ok());
  return *stats;
}

void BM_SyncedWrite(benchmark::State& state) {
  const auto variant = static_cast<Variant>(state.range(0));
  RocksDbStorage& db = *g_dbs[variant];
  const std::string prefix = "t" + std::to_string(state.thread_index()) + "/";
  const std::string value(kValueBytes, 'v');
  RocksDbWriteStats before;
  if (state.thread_index() == 0) before = Stats(db);
  uint64_t i = 0;
  for (auto _ : state) {
    RecordBatch batch;
    batch.Put(prefix + "op/" + std::to_string(i), value);
    batch.Put(prefix + "state/" + std::to_string(i % 1024), value);
    ++i;
    Status s;
    if (variant == kSerialized) {
      std::lock_guard lock(g_serialize);
      s = db.Write(batch, {.sync = true});
    } else {
      s = db.Write(batch, {.sync = true});
    }
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {  // after the end barrier: every thread's writes are counted
    RocksDbWriteStats after = Stats(db);
    const double writes = static_cast<double>((after.writes_by_self - before.writes_by_self) +
                                              (after.writes_by_other - before.writes_by_other));
    const double syncs = static_cast<double>(after.wal_syncs - before.wal_syncs);
    state.counters["writes_per_sync"] = syncs > 0 ? writes / syncs : 0;
  }
  state.SetLabel(kVariantNames[variant]);
}

BENCHMARK(BM_SyncedWrite)
    ->ArgName("variant")
    ->DenseRange(kGrouped, kSerialized)
    ->ThreadRange(1, 8)
    ->UseRealTime();

// Removes the default directory at exit; a --db_dir given by the user is left alone.
struct OwnedDir {
  std::string path;
  ~OwnedDir() {
    if (path.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) {
  using namespace meridian;
  OwnedDir owned;
  std::string db_dir;
  std::vector<char*> rest;  // argv without --db_dir, for Google Benchmark's own flags
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--db_dir=")) {
      db_dir = arg.substr(9);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (db_dir.empty()) {
    std::string pattern = std::filesystem::temp_directory_path() / "meridian_bench_XXXXXX";
    const char* made = mkdtemp(pattern.data());
    MERIDIAN_ASSERT_MSG(made != nullptr, "mkdtemp failed");
    db_dir = owned.path = pattern;
  }
  std::fprintf(stderr, "storage_benchmark: databases under %s\n", db_dir.c_str());
  OpenAll(db_dir);
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& db : g_dbs)
    db.reset();  // close before the directory goes
  return 0;
}
