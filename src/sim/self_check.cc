#include "sim/self_check.h"

#include "sim/isolated_run.h"

namespace meridian {

std::vector<SeededBug> KnownBugs() {
  return {
      {"dedupe", "apply without dedupe", [](SimOptions& o) { o.bugs.apply_without_dedupe = true; }},
      {"causal-wait", "no causal wait", [](SimOptions& o) { o.bugs.no_causal_wait = true; }},
      {"lww-tie", "LWW tie without region",
       [](SimOptions& o) { o.bugs.lww_tie_without_region = true; }},
      {"orset-remove", "OR-set remove wins over a concurrent add",
       [](SimOptions& o) { o.bugs.or_set_remove_wins = true; }},
      {"counter-delete-baseline", "a counter delete removes what it finds, not what it saw",
       [](SimOptions& o) { o.bugs.counter_delete_ignores_baseline = true; }},
      {"register-context-ignored",
       "a register write with a context replaces every sibling, also those written after the read",
       [](SimOptions& o) { o.bugs.register_context_ignored = true; }},
      {"rga-arrival-order", "an RGA merge orders concurrent text inserts by their arrival",
       [](SimOptions& o) { o.bugs.rga_arrival_order = true; }},
      {"escrow-double-lend", "a stock region forgets what it lent and lends or takes it again",
       [](SimOptions& o) { o.bugs.escrow_double_lend = true; }},
      {"recover-without-replay", "recovery skips the logged ops the saved states lack",
       [](SimOptions& o) { o.bugs.recover_without_replay = true; }},
      {"forget-vv", "version vector forgets on restart",
       [](SimOptions& o) { o.bugs.forget_vv_on_restart = true; }},
      {"accept-without-promise", "handle acceptor accepts below its promise",
       [](SimOptions& o) { o.strong_bugs.accept_without_promise = true; }},
      {"quorum-of-one", "handle proposer takes its own region for a majority",
       [](SimOptions& o) { o.strong_bugs.quorum_of_one = true; }},
      {"reapply-on-retry", "handle retry re-applies a request whose earlier round was chosen",
       [](SimOptions& o) { o.strong_bugs.reapply_on_retry = true; }},
      {"round1-chosen-after-promise",
       "a round-1 value is answered chosen after a higher promise superseded (3, P)",
       [](SimOptions& o) { o.strong_bugs.round1_chosen_after_promise = true; }},
      {"read-on-expired-lease", "a handle read is answered from a read lease that expired",
       [](SimOptions& o) { o.strong_bugs.read_on_expired_lease = true; }},
      {"acks-never-go-back", "a region that lost its disk is believed to hold what it acknowledged",
       [](SimOptions& o) { o.bugs.acks_never_go_backwards = true; }},
      {"lost-chunk", "a state transfer carries on past a lost chunk",
       [](SimOptions& o) { o.bugs.skip_lost_snapshot_chunk = true; }},
      {"vote-while-rejoining", "a handle acceptor that lost its records votes at once",
       [](SimOptions& o) { o.strong_bugs.vote_while_rejoining = true; }},
      // The region node's shell rules (NodeBugs).
      {"ack-before-durable", "a write is acknowledged before its step is durable",
       [](SimOptions& o) { o.node_bugs.ack_before_durable = true; }},
      {"read-undurable", "a read shows a key whose latest change is not durable yet",
       [](SimOptions& o) { o.node_bugs.read_undurable = true; }},
      {"forget-storage-failure", "a failed write or fsync is taken for a durable one",
       [](SimOptions& o) { o.node_bugs.forget_storage_failure = true; }},
      {"session-ignores-token", "a session read answers without waiting for its token",
       [](SimOptions& o) { o.node_bugs.session_wait_ignores_token = true; }},
      {"quorum-read-local", "a quorum read answers from its own region alone",
       [](SimOptions& o) { o.node_bugs.quorum_read_local = true; }},
      {"majority-ack-early", "a w=majority write is acknowledged before a majority holds it",
       [](SimOptions& o) { o.node_bugs.write_level_counts_one_more = true; }},
      // Residency (docs/residency.md): caught by ResidencyChecker and the clients' checks.
      {"residency-ignored", "pinned keys are written to, and relayed by, every region's group",
       [](SimOptions& o) { o.node_bugs.residency_ignored = true; }},
      {"snapshot-includes-pinned", "a state transfer of every region's group carries pinned keys",
       [](SimOptions& o) { o.node_bugs.snapshot_includes_pinned = true; }},
      // Subjects: values sealed under a key no other region ever gets do not open there; an
      // erasure must leave no data key on any disk (simulation_erasures.cc, E3).
      {"subject-keys-unsent", "a subject's data keys never leave the region that made them",
       [](SimOptions& o) { o.node_bugs.subject_keys_unsent = true; }},
      {"erasure-keeps-key-records", "an erasure forgets the subject's keys but its disk keeps them",
       [](SimOptions& o) { o.node_bugs.erasure_keeps_key_records = true; }},
  };
}

std::vector<SelfCheckOutcome> RunSelfCheck(RegionId regions, Topology topology,
                                           uint64_t max_seeds) {
  std::vector<SelfCheckOutcome> outcomes;
  for (const SeededBug& bug : KnownBugs()) {
    SelfCheckOutcome outcome{bug.id + ": " + bug.name, std::nullopt, "", 0};
    for (uint64_t seed = 1; seed <= max_seeds && !outcome.caught_by_seed; ++seed) {
      SimOptions options = SimOptions::ForSeed(seed, regions, topology);
      // A buggy cluster may never quiesce; a short deadline keeps the self-check quick.
      options.quiesce_deadline_ms = 15000;
      SimOptions buggy = options;
      bug.enable(buggy);
      SimResult result = RunIsolated(buggy);
      ++outcome.seeds_run;
      // The bug is caught only where the same seed passes without it: a seed that fails anyway
      // (here, with the short deadline) proves nothing about the checkers.
      if (!result.violations.empty() && RunIsolated(options).violations.empty()) {
        outcome.caught_by_seed = seed;
        outcome.first_violation = result.violations.front();
      }
    }
    outcomes.push_back(outcome);
  }
  return outcomes;
}

}  // namespace meridian
