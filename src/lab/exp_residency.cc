// (issue 14) Residency: keys under a residency rule's prefix ("gdpr:" in deploy/local-eu2.yaml,
// pinned to eu and eu2) never leave their regions, through failover, partitions and backups.
//
// One client thread per region writes every class the rule covers (register, profile, counter,
// tags), pinned and unpinned, through the router, while the cluster goes through six phases:
// all up; the first allowed region (eu) SIGKILLed, so its clients' pinned writes fail over to
// the second (eu2); eu2 also cut from every region outside the set (their clients' pinned
// writes must then get 503, never a copy elsewhere); eu restarted; eu2 healed and eu cut from
// eu2 (each takes pinned writes alone); all healed. Then every region is backed up online and
// stopped, and the raw bytes of every file each region left (data directory with RocksDB's WAL,
// SSTs (also decoded), MANIFEST and info logs; its backup; its process log) are scanned for
// every pinned key and value written (lab/raw_scan.h).
//
// Asserted: no pinned byte in any region outside the set; no pinned write acknowledged by a
// region outside the set; such a region refuses a pinned key with 421; every acknowledged pinned
// write shown by every allowed region (and found by the scan of its files: the scan sees what it
// looks for), every acknowledged unpinned write shown by every region; no increment applied
// twice. Timings (failover) are figures only.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/raw_scan.h"
#include "lab/region_control.h"
#include "lab/residency_load.h"
#include "lab/residency_verify.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPhaseCount = 6;

// The rule under test and the regions' roles, from the cluster config.
struct Roles {
  std::string prefix;
  std::vector<size_t> allowed;  // region ids in the rule's set
  std::vector<size_t> outside;  // every other region
  size_t victim = 0;            // allowed[0]: killed, later cut from partner
  size_t partner = 0;           // allowed[1]: takes the victim's pinned traffic
  std::vector<ResidencyClass> classes;
  std::vector<std::string> phase_names;  // kPhaseCount, naming the regions
};

std::vector<std::string> PhaseNames(const std::string& victim, const std::string& partner) {
  return {"all up",
          victim + " killed",
          victim + " killed, " + partner + " cut from the regions outside the set",
          victim + " restarted, " + partner + " still cut",
          victim + " cut from " + partner,
          "healed"};
}

std::optional<Roles> ResolveRoles(const LabContext& context, ExperimentResult& result) {
  if (context.config.residency.empty()) {
    result.Assert("the cluster config declares a residency rule", false,
                  "none: run with the default config, or one with a `residency:` rule "
                  "(deploy/local-eu2.yaml)");
    return std::nullopt;
  }
  const ResidencyRuleConfig& rule = context.config.residency.front();
  Roles roles;
  roles.prefix = rule.prefix;
  for (size_t r = 0; r < context.region_count(); ++r) {
    const bool in = std::find(rule.regions.begin(), rule.regions.end(), r) != rule.regions.end();
    (in ? roles.allowed : roles.outside).push_back(r);
  }
  if (roles.allowed.size() < 2 || roles.outside.empty()) {
    result.Assert("the rule names at least two regions and leaves at least one out", false,
                  "rule \"" + rule.prefix + "\" has " + std::to_string(roles.allowed.size()) +
                      " of " + std::to_string(context.region_count()) + " regions");
    return std::nullopt;
  }
  roles.victim = roles.allowed[0];
  roles.partner = roles.allowed[1];
  roles.phase_names =
      PhaseNames(context.region_names[roles.victim], context.region_names[roles.partner]);
  for (ResidencyClass kind : kResidencyClasses) {
    if (rule.data_class.empty() || rule.data_class == ResidencyClassName(kind))
      roles.classes.push_back(kind);
  }
  return roles;
}

// Leaves the cluster whole on every path: every link healed, the victim running.
class WholeAgain {
 public:
  WholeAgain(const LabContext& context, const Roles& roles) : context_(context), roles_(roles) {}
  ~WholeAgain() {
    const auto& names = context_.region_names;
    for (size_t o : roles_.outside)
      SetWanLinks(context_, names[roles_.partner], names[o], true);
    SetWanLinks(context_, names[roles_.victim], names[roles_.partner], true);
    ControlRegion(context_, names[roles_.victim], "restart");
  }
  WholeAgain(const WholeAgain&) = delete;
  WholeAgain& operator=(const WholeAgain&) = delete;

 private:
  const LabContext& context_;
  const Roles& roles_;
};

// The six phases, on this thread while the load runs; records what the cluster did.
void DrivePhases(const LabContext& context, const Roles& roles, const ResidencyPlan& plan,
                 std::atomic<int>& phase, double& kill_s, ExperimentResult& result) {
  const auto hold = context.quick ? std::chrono::milliseconds(2500) : std::chrono::seconds(15);
  const auto settle = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(60);
  const auto& names = context.region_names;
  const std::string& victim = names[roles.victim];
  const std::string& partner = names[roles.partner];
  std::this_thread::sleep_for(hold);

  kill_s = SecondsSince(plan.start);
  result.Assert("kill -9 " + victim + " under load (supervisor)",
                ControlRegion(context, victim, "kill"), "");
  phase = 1;
  std::this_thread::sleep_for(hold);

  int failed = 0;
  for (size_t o : roles.outside)
    failed += SetWanLinks(context, partner, names[o], false);
  phase = 2;
  std::this_thread::sleep_for(hold);

  result.Assert("restart " + victim + " (supervisor)", ControlRegion(context, victim, "restart"),
                "");
  const auto restart_at = Clock::now();
  const bool healthy = WaitRegionHealthy(context, roles.victim, settle);
  result.Assert(victim + " reports ok after its restart", healthy, "");
  if (healthy) result.Metric(victim + ": restart to /healthz ok", SecondsSince(restart_at), "s");
  phase = 3;
  std::this_thread::sleep_for(hold);

  for (size_t o : roles.outside)
    failed += SetWanLinks(context, partner, names[o], true);
  failed += SetWanLinks(context, victim, partner, false);
  phase = 4;
  std::this_thread::sleep_for(hold);

  failed += SetWanLinks(context, victim, partner, true);
  phase = 5;
  std::this_thread::sleep_for(hold);
  result.Assert("cuts and heals via the WAN admin API", failed == 0,
                std::to_string(failed) + " proxy calls failed");
}

// Per phase: what happened to pinned and unpinned writes, and by whom they were served.
void ReportPhases(const LabContext& context, const Roles& roles,
                  const std::vector<ResidencyWrite>& writes, double kill_s,
                  ExperimentResult& result) {
  for (int p = 0; p < kPhaseCount; ++p) {
    std::map<std::string, size_t> pinned_by;
    size_t pinned_503 = 0, pinned_failed = 0, open_acked = 0, open_failed = 0;
    for (const ResidencyWrite& w : writes) {
      if (w.phase != p) continue;
      if (!w.pinned) {
        ++(w.acked ? open_acked : open_failed);
      } else if (w.acked) {
        ++pinned_by[w.served_by];
      } else {
        ++(w.status == 503 ? pinned_503 : pinned_failed);
      }
    }
    const std::string label = roles.phase_names[static_cast<size_t>(p)] + ": ";
    for (size_t r : roles.allowed) {
      const std::string& name = context.region_names[r];
      result.Metric(label + "pinned writes acknowledged by " + name,
                    static_cast<double>(pinned_by[name]), "ops");
    }
    result.Metric(label + "pinned writes answered 503 (no allowed region reachable)",
                  static_cast<double>(pinned_503), "ops");
    result.Metric(label + "pinned writes failed otherwise", static_cast<double>(pinned_failed),
                  "ops");
    result.Metric(label + "unpinned writes acknowledged", static_cast<double>(open_acked), "ops");
    result.Metric(label + "unpinned writes not acknowledged", static_cast<double>(open_failed),
                  "ops");
  }
  // Failover: kill to the first pinned write of a client in the victim acknowledged elsewhere.
  double failover_s = -1;
  size_t outside_acks = 0;
  std::string outside_example;
  for (const ResidencyWrite& w : writes) {
    if (!w.pinned || !w.acked) continue;
    const bool allowed = std::any_of(roles.allowed.begin(), roles.allowed.end(), [&](size_t r) {
      return context.region_names[r] == w.served_by;
    });
    if (!allowed) {
      ++outside_acks;
      outside_example = w.key + " by " + w.served_by;
    }
    if (w.phase >= 1 && w.client == context.region_names[roles.victim] &&
        w.served_by == context.region_names[roles.partner] && w.done_s >= kill_s) {
      const double s = w.done_s - kill_s;
      failover_s = failover_s < 0 ? s : std::min(failover_s, s);
    }
  }
  if (failover_s >= 0) {
    result.Metric("failover: kill to the first pinned write of a client in " +
                      context.region_names[roles.victim] + " acknowledged by " +
                      context.region_names[roles.partner],
                  failover_s * 1000, "ms");
  }
  result.Assert("every acknowledged pinned write was served by a region of the set",
                outside_acks == 0,
                std::to_string(outside_acks) + " served outside" +
                    (outside_example.empty() ? "" : ", e.g. " + outside_example));
}

// Every allowed region shows every acknowledged pinned write; every region every unpinned one.
void CheckAcknowledged(const LabContext& context, const Roles& roles,
                       const std::vector<ResidencyWrite>& writes, ExperimentResult& result) {
  const auto settle = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(90);
  const auto start = Clock::now();
  auto all_shown = [&] {
    for (size_t r : roles.allowed) {
      if (CheckVisible(context.region_http[r], writes, true).missing > 0) return false;
    }
    for (size_t r = 0; r < context.region_count(); ++r) {
      if (CheckVisible(context.region_http[r], writes, false).missing > 0) return false;
    }
    return true;
  };
  if (WaitUntil(all_shown, settle))
    result.Metric("load end to every acknowledged write shown where it belongs",
                  SecondsSince(start), "s");
  for (size_t r = 0; r < context.region_count(); ++r) {
    const std::string& name = context.region_names[r];
    const bool allowed =
        std::find(roles.allowed.begin(), roles.allowed.end(), r) != roles.allowed.end();
    const std::vector<bool> kinds =
        allowed ? std::vector<bool>{true, false} : std::vector<bool>{false};
    for (bool pinned : kinds) {
      const Visibility seen = CheckVisible(context.region_http[r], writes, pinned);
      const std::string what = pinned ? "pinned" : "unpinned";
      result.Metric(name + ": acknowledged " + what + " writes lost", seen.missing, "ops");
      result.Assert(name + " shows every acknowledged " + what + " write",
                    seen.missing == 0 && seen.checked > 0,
                    std::to_string(seen.missing) + " of " + std::to_string(seen.checked) +
                        " missing" +
                        (seen.first_missing.empty() ? "" : ", first: " + seen.first_missing));
      result.Assert(name + ": no " + what + " increment applied twice", seen.doubled == 0,
                    std::to_string(seen.doubled) + " beyond those sent");
    }
  }
}

// A region outside the set, asked directly for a pinned key, refuses with 421.
void CheckMisdirected(const LabContext& context, const Roles& roles,
                      const std::vector<ResidencyWrite>& writes, ExperimentResult& result) {
  std::string key;
  for (const ResidencyWrite& w : writes) {
    if (w.pinned && w.acked && w.kind == ResidencyClass::kRegister) key = w.key;
  }
  for (size_t r : roles.outside) {
    auto reply = LabCall(context.region_http[r], "GET", "/register/" + key);
    result.Assert(context.region_names[r] + " answers 421 for a pinned key",
                  !key.empty() && reply.ok() && reply->status == 421,
                  reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.status().ToString());
  }
}

// Backs up and stops every region, then scans what each left on disk (see the file comment).
void ScanAtRest(const LabContext& context, const Roles& roles,
                const std::vector<ResidencyWrite>& writes, ExperimentResult& result) {
  for (size_t r = 0; r < context.region_count(); ++r) {
    result.Assert("online backup of " + context.region_names[r],
                  ControlRegion(context, context.region_names[r], "backup"), "");
  }
  for (size_t r = 0; r < context.region_count(); ++r) {
    result.Assert("stop " + context.region_names[r] + " (SIGTERM, drained) before the scan",
                  ControlRegion(context, context.region_names[r], "stop"), "");
  }
  const std::vector<std::string> needles = PinnedNeedles(writes);
  const std::vector<std::string> acked = AckedPinnedNeedles(writes);
  result.Metric("pinned keys and values written (scan needles)",
                static_cast<double>(needles.size()), "strings");
  for (size_t r = 0; r < context.region_count(); ++r) {
    const std::string& name = context.region_names[r];
    const bool allowed =
        std::find(roles.allowed.begin(), roles.allowed.end(), r) != roles.allowed.end();
    const std::vector<std::string> roots = RegionScanRoots(context.cluster_dir, name);
    // Outside the set, the rule's bare prefix is looked for too (last), as a figure: any pinned
    // key starts with it, but a log may name the rule itself.
    std::vector<std::string> looked_for = allowed ? acked : needles;
    if (!allowed) looked_for.push_back(roles.prefix);
    auto scan = ScanForNeedles(roots, looked_for);
    if (!scan.ok()) {
      result.Assert(name + ": raw scan ran", false, scan.status().ToString());
      continue;
    }
    result.Metric(name + ": files scanned", static_cast<double>(scan->files), "files");
    result.Metric(name + ": bytes scanned", static_cast<double>(scan->bytes), "bytes");
    result.Metric(name + ": SST files also decoded", static_cast<double>(scan->sst_decoded),
                  "files");
    std::string unreadable;
    for (const std::string& file : scan->unreadable)
      unreadable += (unreadable.empty() ? "" : "; ") + file;
    result.Assert(name + ": every file read (and every SST decoded)", scan->unreadable.empty(),
                  unreadable);
    std::string where;
    for (const std::string& file : scan->files_with_hits)
      where += (where.empty() ? "" : ", ") + file;
    if (allowed) {
      result.Metric(name + ": acknowledged pinned keys and values found on disk",
                    static_cast<double>(scan->NeedlesFound()), "strings");
      result.Assert(name +
                        "'s files hold every acknowledged pinned key and value (the scan "
                        "sees what it looks for)",
                    scan->NeedlesFound() == acked.size() && !acked.empty(),
                    std::to_string(scan->NeedlesFound()) + " of " + std::to_string(acked.size()));
    } else {
      const uint64_t prefix_hits = scan->HitsOf(needles.size());
      const uint64_t hits = scan->TotalHits() - prefix_hits;
      result.Metric(name + ": occurrences of pinned keys and values", static_cast<double>(hits),
                    "hits");
      result.Metric(name + ": occurrences of the bare prefix \"" + roles.prefix + "\"",
                    static_cast<double>(prefix_hits), "hits");
      result.Assert(name +
                        ": no byte of any pinned key or value in any file (raw, and SSTs "
                        "decoded)",
                    hits == 0 && scan->files > 0,
                    std::to_string(hits) + " hits in " + std::to_string(scan->files) + " files" +
                        (where.empty() ? "" : ": " + where));
    }
  }
}

}  // namespace

ExperimentResult RunResidencyExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "residency", "pinned keys stay in their regions through failover, partitions and backups");
  const std::optional<Roles> roles = ResolveRoles(context, result);
  if (!roles) return result;
  const auto settle = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(60);
  const std::string& victim = context.region_names[roles->victim];

  ResidencyPlan plan;
  plan.router = context.config.router.http.ToString();
  plan.prefix = roles->prefix;
  plan.seed = std::to_string(context.seed);
  plan.clients = context.region_names;
  plan.pinned_classes = roles->classes;
  // The router must send the victim's clients' pinned keys home before the load starts.
  const bool routed_home = WaitUntil(
      [&] {
        auto reply = LabCall(plan.router, "GET", "/register/" + plan.prefix + "probe", "",
                             {{"X-Client-Region", victim}}, std::chrono::seconds(2));
        return reply.ok() && LabHeader(*reply, "X-Meridian-Region") == victim;
      },
      settle);
  if (!routed_home)
    result.notes.push_back("The router did not route pinned keys of clients in " + victim + " to " +
                           victim + " before the load started.");

  std::vector<ResidencyWrite> writes;
  std::atomic<int> phase{0};
  double kill_s = 0;
  {
    WholeAgain whole(context, *roles);
    plan.start = Clock::now();
    RunResidencyLoad(plan, phase, writes,
                     [&] { DrivePhases(context, *roles, plan, phase, kill_s, result); });
  }
  WaitRegionHealthy(context, roles->victim, settle);
  ReportPhases(context, *roles, writes, kill_s, result);
  CheckAcknowledged(context, *roles, writes, result);
  CheckMisdirected(context, *roles, writes, result);
  ScanAtRest(context, *roles, writes, result);
  for (size_t r = 0; r < context.region_count(); ++r)
    ControlRegion(context, context.region_names[r], "restart");
  for (size_t r = 0; r < context.region_count(); ++r)
    WaitRegionHealthy(context, r, settle);

  std::string classes, allowed, outside;
  for (ResidencyClass kind : roles->classes)
    classes += (classes.empty() ? "" : ", ") + std::string(ResidencyClassName(kind));
  for (size_t r : roles->allowed)
    allowed += (allowed.empty() ? "" : ", ") + context.region_names[r];
  for (size_t r : roles->outside)
    outside += (outside.empty() ? "" : ", ") + context.region_names[r];
  result.notes.push_back(
      "Rule \"" + roles->prefix + "\" -> [" + allowed + "]. One client per region (" +
      std::to_string(plan.clients.size()) +
      ") writes through the router, in turn, a pinned and an unpinned write of each class (" +
      classes + ") every 10 ms at most; each write has a key and value of its own. Phases (each " +
      (context.quick ? "2.5 s" : "15 s") + "): " + roles->phase_names[0] + "; " + victim +
      " SIGKILLed; " + context.region_names[roles->partner] + " also cut from " + outside + "; " +
      victim + " restarted; " + victim + " cut from " + context.region_names[roles->partner] +
      " instead; healed.");
  result.notes.push_back(
      "Then every region is backed up online and stopped, and every file under its data "
      "directory, its backup directory and its process logs is read whole and searched for "
      "every pinned key and value written (acknowledged or not); RocksDB SSTs are also decoded "
      "entry by entry (lab/raw_scan.h), since compressed blocks could hide a string from a raw "
      "search. The allowed regions' files are searched for the acknowledged ones: finding them "
      "all there shows the scan would see a leak. The regions are restarted afterwards.");
  return result;
}

}  // namespace meridian
