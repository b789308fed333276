#include "tools/backup_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "config/cluster_config.h"
#include "net/http_client.h"
#include "server/region_backup.h"
#include "server/slice_layout.h"
#include "tools/progress_line.h"

namespace meridian {
namespace {

constexpr std::chrono::milliseconds kProgressInterval{500};

// The progress line while `what` runs (tools/progress_line.h): elapsed time and the bytes `dir`
// gained since it started, when `dir` is visible from here.
std::unique_ptr<ProgressTicker> StartProgress(ProgressMode mode, std::string what,
                                              std::string dir) {
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const auto start = std::chrono::steady_clock::now();
  const uint64_t before = DirectoryBytes(dir);
  return std::make_unique<ProgressTicker>(
      ShowProgress(mode, tty), tty, stderr, kProgressInterval,
      [what = std::move(what), dir = std::move(dir), start, before] {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::optional<uint64_t> written;
        std::error_code error;
        if (std::filesystem::is_directory(dir, error)) {
          const uint64_t now = DirectoryBytes(dir);
          written = now > before ? now - before : 0;
        }
        return FormatProgress(what, elapsed, written);
      });
}

// A path as a query value: RFC 3986 unreserved characters and '/' pass, the rest is %XX.
std::string QueryValue(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

struct BackupFlags {
  std::string config_path = "deploy/local.yaml";
  std::string region;
  std::string to;
  std::string key;  // the admin key; "": $MERIDIAN_ADMIN_KEY
  int timeout_s = 3600;
  bool progress = false;
  bool no_progress = false;
};

int RunBackup(const BackupFlags& f) {
  Result<ClusterConfig> config = LoadClusterConfig(f.config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "backup: %s\n", config.status().ToString().c_str());
    return 2;
  }
  std::optional<RegionId> id = config->RegionIdByName(f.region);
  if (!id) {
    std::fprintf(stderr, "backup: unknown region '%s' (the config has: %s)\n", f.region.c_str(),
                 config->RegionNames().c_str());
    return 2;
  }
  const RegionConfig& region = config->regions[*id];
  if (!region.admin) {
    std::fprintf(stderr, "backup: region %s has no admin listener (`admin:` in the config)\n",
                 f.region.c_str());
    return 2;
  }
  std::string key = f.key;
  if (key.empty()) {
    if (const char* env = std::getenv("MERIDIAN_ADMIN_KEY")) key = env;
  }
  // The region writes the files: it needs the path as this shell means it.
  const std::string dir = std::filesystem::absolute(f.to).lexically_normal().string();
  // A sliced region (docs/slices.md): every slice backs itself up, through its own admin
  // listener (the region's port + the slice), into DIR/slice-<i>; `meridian restore` puts them
  // back together.
  for (uint32_t slice = 0; slice < config->slices; ++slice) {
    const std::string slice_dir = SliceDataDir(dir, slice, config->slices);
    const std::string what =
        "backup " + f.region + (config->slices > 1 ? " slice " + std::to_string(slice) : "");
    HttpClientRequest request;
    request.method = "POST";
    request.target = "/admin/backup?to=" + QueryValue(slice_dir);
    if (!key.empty()) request.headers.emplace_back("Authorization", "Bearer " + key);
    HostPort admin = *region.admin;
    admin.port = static_cast<uint16_t>(admin.port + slice);  // cluster config invariant 9
    auto progress =
        StartProgress(ProgressModeFromFlags(f.progress, f.no_progress), what, slice_dir);
    auto reply = HttpFetch(admin.ToString(), request, std::chrono::seconds(f.timeout_s));
    progress->Stop();  // its line erased before the answer is printed
    if (!reply.ok()) {
      std::fprintf(stderr, "%s: %s\n", what.c_str(), reply.status().ToString().c_str());
      return 1;
    }
    std::printf("%s\n", reply->body.c_str());
    if (reply->status != 200) return 1;
  }
  return 0;
}

struct RestoreFlags {
  std::string from;
  std::string data_dir;
  bool progress = false;
  bool no_progress = false;
};

int RunRestore(const RestoreFlags& f) {
  auto progress = StartProgress(ProgressModeFromFlags(f.progress, f.no_progress),
                                "restore into " + f.data_dir, f.data_dir);
  auto restored = RestoreAnyRegion(f.from, f.data_dir);
  progress->Stop();
  if (!restored.ok()) {
    std::fprintf(stderr, "restore: %s\n", restored.status().ToString().c_str());
    return 1;
  }
  for (size_t slice = 0; slice < restored->size(); ++slice) {
    const RocksDbBackupInfo& info = (*restored)[slice];
    std::printf("restored %sbackup %u (%llu bytes, %u files) into %s\n",
                restored->size() > 1 ? ("slice " + std::to_string(slice) + "'s ").c_str() : "",
                info.backup_id, static_cast<unsigned long long>(info.size_bytes), info.files,
                SliceDataDir(f.data_dir, static_cast<uint32_t>(slice),
                             static_cast<uint32_t>(restored->size()))
                    .c_str());
  }
  std::printf(
      "start the region on it: it rejoins its peers as a new incarnation before it takes "
      "writes\n");
  return 0;
}

void AddProgressFlags(CLI::App& command, bool& progress, bool& no_progress) {
  CLI::Option* on = command.add_flag(
      "--progress", progress,
      "a progress line on stderr (elapsed, bytes written so far) even when it is not a terminal");
  CLI::Option* off =
      command.add_flag("--no-progress", no_progress, "no progress line, even on a terminal");
  on->excludes(off);
}

}  // namespace

void AddBackupCommands(CLI::App& app, int* exit_code) {
  auto b = std::make_shared<BackupFlags>();
  CLI::App* backup = app.add_subcommand(
      "backup", "Back up a running region online into a directory (incremental after the first)");
  backup->add_option("--config", b->config_path, "cluster config (YAML)")->capture_default_str();
  backup->add_option("--region", b->region, "the region to back up")->required();
  backup->add_option("--to", b->to, "backup directory (the region's machine writes it)")
      ->required();
  backup->add_option("--key", b->key,
                     "an admin key (default: $MERIDIAN_ADMIN_KEY; the demo's is admin_key in its "
                     "endpoints file)");
  backup->add_option("--timeout-s", b->timeout_s, "how long to wait for the copy")
      ->capture_default_str()
      ->check(CLI::Range(1, 86'400));
  AddProgressFlags(*backup, b->progress, b->no_progress);
  backup->callback([b, exit_code] { *exit_code = RunBackup(*b); });

  auto r = std::make_shared<RestoreFlags>();
  CLI::App* restore = app.add_subcommand(
      "restore", "Restore a region's data directory from the latest backup (region stopped)");
  restore->add_option("--from", r->from, "backup directory")->required();
  restore
      ->add_option("--data-dir", r->data_dir, "the region's data directory (must hold no database)")
      ->required();
  AddProgressFlags(*restore, r->progress, r->no_progress);
  restore->callback([r, exit_code] { *exit_code = RunRestore(*r); });
}

}  // namespace meridian
