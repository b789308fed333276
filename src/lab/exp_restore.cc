// (issue 15) Restore: a region is backed up online, the cluster moves on (writes and deletes in
// every region, the backed-up region's own among them), the region's disk is destroyed, and it
// is restored from the backup and restarted. It comes back as a new incarnation and catches up
// by the normal paths (docs/replication.md 3a).
//
// Per key i of N (300 quick, 20 000 full), written before the backup from region i % R:
//   counter c<i> +1, tags t<i> {a, b}, profile p<i> {x: 1, y: 1};
// after the backup, from region (i + 1) % R (so the victim writes a third of them):
//   counter c<i> +1, tags t<i> -a +c, profile p<i> x deleted.
// Asserted after the restore, in every region: c<i> = 2 (nothing lost, nothing doubled),
// t<i> = {b, c} (no removed member back), p<i> = {y: 1} (no deleted field back), and every
// region agrees. Measured: backup time and size, restore time, restart to "ok".
#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/lag_scrape.h"

namespace meridian {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// Runs `call(i)` for i in [0, n) on `threads` threads; returns how many returned false.
size_t ParallelFor(size_t n, size_t threads, const std::function<bool(size_t)>& call) {
  std::atomic<size_t> next{0}, failed{0};
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        if (!call(i)) ++failed;
      }
    });
  }
  for (std::thread& t : pool)
    t.join();
  return failed;
}

bool Ok(const Result<LabReply>& reply) {
  return reply.ok() && reply->status == 200;
}

}  // namespace

ExperimentResult RunRestoreExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "restore", "A region restored from an online backup catches up: nothing lost or resurrected");
  const size_t n = context.quick ? 300 : 20'000;
  const size_t threads = context.quick ? 4 : 16;
  const size_t regions = context.region_count();
  const size_t victim = regions - 1;
  const std::string& victim_name = context.region_names[victim];
  const std::string prefix = "restore-" + std::to_string(context.seed) + "-";
  auto at = [&](size_t region) -> const std::string& { return context.region_http[region]; };
  auto key = [&](char cls, size_t i) { return prefix + cls + std::to_string(i); };

  // 1. Before the backup.
  size_t failed = ParallelFor(n, threads, [&](size_t i) {
    const std::string& a = at(i % regions);
    return Ok(LabCall(a, "POST", "/counter/" + key('c', i) + "/incr")) &&
           Ok(LabCall(a, "POST", "/tags/" + key('t', i), Json{{"add", {"a", "b"}}}.dump())) &&
           Ok(LabCall(a, "PUT", "/profile/" + key('p', i), Json{{"x", "1"}, {"y", "1"}}.dump()));
  });
  result.Assert("every write before the backup answered 200", failed == 0,
                std::to_string(failed) + " keys failed");
  auto drained = WaitForDrain(context, std::chrono::seconds(context.quick ? 60 : 600));
  result.Assert("they replicated everywhere", drained.ok(),
                drained.ok() ? "backlog 0" : drained.status().ToString());

  // 2. The backup, online.
  const auto backup_start = Clock::now();
  auto backup = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/backup", "", {},
                        std::chrono::minutes(10));
  result.Assert("the online backup succeeded", Ok(backup),
                backup.ok() ? backup->body.dump() : backup.status().ToString());
  result.Metric("backup time", SecondsSince(backup_start), "s");
  if (Ok(backup)) {
    result.Metric("backup size", JsonField(backup->body, "size_bytes").get<double>() / (1 << 20),
                  "MiB");
  }

  // 3. The cluster moves on: writes and deletes everywhere, the victim's own among them.
  failed = ParallelFor(n, threads, [&](size_t i) {
    const std::string& a = at((i + 1) % regions);
    return Ok(LabCall(a, "POST", "/counter/" + key('c', i) + "/incr")) &&
           Ok(LabCall(a, "DELETE", "/tags/" + key('t', i) + "/a")) &&
           Ok(LabCall(a, "POST", "/tags/" + key('t', i), Json{{"add", {"c"}}}.dump())) &&
           Ok(LabCall(a, "PUT", "/profile/" + key('p', i), Json{{"x", nullptr}}.dump()));
  });
  result.Assert("every write after the backup answered 200", failed == 0,
                std::to_string(failed) + " keys failed");
  drained = WaitForDrain(context, std::chrono::seconds(context.quick ? 60 : 600));
  result.Assert("they replicated everywhere too", drained.ok(),
                drained.ok() ? "backlog 0" : drained.status().ToString());

  // 4. The disk is lost; restore and restart.
  auto killed = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/kill");
  result.Assert("the victim was killed", Ok(killed),
                killed.ok() ? std::to_string(killed->status) : killed.status().ToString());
  const auto restore_start = Clock::now();
  auto restored = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/restore", "",
                          {}, std::chrono::minutes(10));
  result.Assert("its data directory was replaced by the backup", Ok(restored),
                restored.ok() ? restored->body.dump() : restored.status().ToString());
  result.Metric("restore time", SecondsSince(restore_start), "s");
  const auto restart_at = Clock::now();
  auto restarted = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/restart");
  result.Assert("the victim restarted", Ok(restarted),
                restarted.ok() ? std::to_string(restarted->status) : restarted.status().ToString());
  double ok_s = -1;
  WaitUntil(
      [&] {
        auto health = LabCall(at(victim), "GET", "/healthz", "", {}, std::chrono::seconds(1));
        if (health.ok() && JsonString(health->body, "status") == "ok")
          ok_s = SecondsSince(restart_at);
        return ok_s >= 0;
      },
      std::chrono::seconds(context.quick ? 60 : 900));
  result.Assert("the restored region reported ok", ok_s >= 0,
                "after " + FormatLabNumber(ok_s) + " s");
  result.Metric("restart to ok (rejoined, caught up)", ok_s, "s");

  // 5. Nothing lost, doubled or resurrected, anywhere; every region agrees.
  std::atomic<size_t> lost_or_doubled{0}, resurrected{0}, disagree{0};
  const Json tags_expected = Json::array({"b", "c"});
  const Json profile_expected = Json{{"y", "1"}};
  ParallelFor(n, threads, [&](size_t i) {
    std::vector<Json> seen;
    for (size_t r = 0; r < regions; ++r) {
      auto c = LabCall(at(r), "GET", "/counter/" + key('c', i));
      auto t = LabCall(at(r), "GET", "/tags/" + key('t', i));
      auto p = LabCall(at(r), "GET", "/profile/" + key('p', i));
      const Json counter = c.ok() ? JsonField(c->body, "value") : Json();
      const Json tags = t.ok() ? JsonField(t->body, "value") : Json();
      const Json profile = p.ok() ? JsonField(p->body, "value") : Json();
      if (counter != 2) ++lost_or_doubled;
      if (tags != tags_expected || profile != profile_expected) ++resurrected;
      seen.push_back(Json{counter, tags, profile});
    }
    if (!AllAgree(seen)) ++disagree;
    return true;
  });
  result.Assert("no increment lost or doubled in any region", lost_or_doubled == 0,
                std::to_string(lost_or_doubled) + " of " + std::to_string(n * regions) +
                    " counter reads not 2");
  result.Assert("no removed member or deleted field back in any region", resurrected == 0,
                std::to_string(resurrected) + " of " + std::to_string(n * regions) +
                    " tag/profile reads not as written");
  result.Assert("every region agrees on every key", disagree == 0,
                std::to_string(disagree) + " keys differ");
  result.notes.push_back(
      "The victim is " + victim_name +
      ", backed up online through the demo's control API (the "
      "region's POST /admin/backup: RocksDB BackupEngine, flushed first) and restored with "
      "`meridian restore`, which removes the copy's incarnation so that it rejoins as a new one.");
  return result;
}

}  // namespace meridian
