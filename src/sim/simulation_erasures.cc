// Erasures in the simulation: clients erase subjects (RegionNode contract 7) while the workload
// writes and reads their keys, and the checks say what an erasure promises:
//  E1. A reply of Gone comes only from a region where the subject is erased.
//  E2. At quiescence every region agrees on which subjects are erased (Quiescent waits for it);
//      an acknowledged erasure is among them: it survived every crash and power loss after its
//      reply, and every disk loss but that of the only region holding it (an erasure's reply
//      promises it durable where it was taken, as a w=1 write's does).
//  E3. Every state an erased subject's keys hold, in every region, answers a reader Gone, and no
//      region's disk keeps a record of the subject's data keys.
// The reference models leave an erased subject's keys out from the moment the erasure is asked
// (Checker::set_erased): its deletes are the node's own ops, and writes racing it are lost by
// design (the erasure wins).
#include <string>

#include "sim/simulation_impl.h"

namespace meridian::sim_internal {

void Simulation::PlanErasures() {
  if (!subjects_.enabled() || o_.keys_per_class == 0) return;
  for (uint32_t i = 0; i < o_.erasures; ++i) {
    SimErasure erasure;
    // A workload key's subject ("k7" -> "7" under kSimSubjectPattern): its counter, tags,
    // profile and register all go.
    const std::string key = "k" + std::to_string(erase_random_.Uniform(o_.keys_per_class));
    const std::optional<std::string> subject = subjects_.SubjectOf(key);
    if (!subject) continue;
    erasure.subject = *subject;
    erasure.home = static_cast<RegionId>(erase_random_.Uniform(o_.regions));
    erasure.at_ms = o_.workload_ms / 4 + erase_random_.Uniform(o_.workload_ms / 2 + 1);
    erasures_.push_back(erasure);
    if (o_.regions > 1 && erase_random_.Chance(0.3)) {
      // A second client erases the same subject elsewhere at about the same time.
      erasure.home = static_cast<RegionId>((erasure.home + 1) % o_.regions);
      erasure.at_ms += erase_random_.Uniform(200);
      erasures_.push_back(erasure);
    }
  }
  for (uint64_t i = 0; i < erasures_.size(); ++i)
    Schedule(erasures_[i].at_ms, EraseEvent{i});
}

bool Simulation::ErasureAsked(std::string_view key) const {
  if (erasures_asked_.empty()) return false;
  const std::optional<std::string> subject = subjects_.SubjectOf(key);
  return subject && erasures_asked_.contains(*subject);
}

void Simulation::Handle(const EraseEvent& e) {
  SimErasure& erasure = erasures_[e.erasure];
  const auto r = static_cast<RegionId>((erasure.home + erasure.attempts) % o_.regions);
  ++erasure.attempts;
  erasures_asked_.insert(erasure.subject);
  if (!regions_[r].node) return RetryErasure(e.erasure);  // connection refused
  ++result_.erasures;
  const RequestId id = next_request_++;
  requests_[id] = {Request::Kind::kErase, e.erasure, r, now_};
  Trace("erase subject " + erasure.subject + " at " + std::to_string(r));
  issuing_ = id;
  Drive(r, [&](RegionNode& node, NodeOutput* out) {
    node.OnCommand(id, EraseCommand{erasure.subject}, Now(r), out);
  });
  issuing_ = 0;
  if (requests_.count(id) != 0) Schedule(now_ + kClientRetryMs, ClientTimeoutEvent{id});
}

void Simulation::RetryErasure(uint64_t erasure) {
  if (erasures_[erasure].attempts < kClientMaxAttempts)
    Schedule(now_ + kClientRetryMs, EraseEvent{erasure});
}

void Simulation::OnEraseReply(const Request& request, const NodeReply& reply) {
  SimErasure& erasure = erasures_[request.index];
  if (const auto* status = std::get_if<Status>(&reply.result)) {
    Trace("erase subject " + erasure.subject + " at " + std::to_string(request.region) + ": " +
          status->ToString());
    if (status->code() != StatusCode::kUnavailable) {
      checker_.Violation("a valid erasure of subject " + erasure.subject +
                         " was refused: " + status->ToString());
    }
    return RetryErasure(request.index);
  }
  erasure.acknowledged = true;
  ++result_.erasures_acknowledged;
  Trace("erase subject " + erasure.subject + " acknowledged by " + std::to_string(request.region));
}

bool Simulation::JudgeGone(RegionId r, const StateKey& key, const NodeReply& reply,
                           const std::string& what) {
  const auto* status = std::get_if<Status>(&reply.result);
  if (status == nullptr || status->code() != StatusCode::kGone) return false;
  ++result_.gone;
  const std::optional<std::string> subject = subjects_.SubjectOf(key.key);
  if (!subject || !regions_[r].node || !regions_[r].node->vault().erased(*subject)) {
    checker_.Violation(
        "erasure: " + what + " of " + std::string(DataClassName(key.data_class)) + " " + key.key +
        " at region " + std::to_string(r) +
        " was answered Gone, yet its subject is not erased there: " + status->ToString());
  }
  return true;
}

void Simulation::NoteErasuresLostWithDisk(RegionId r) {
  for (SimErasure& erasure : erasures_) {
    if (!erasure.acknowledged || erasure.lost_with_disk) continue;
    // On another region's disk, synced (its process may be down): a marker only written there
    // may go with a failed fsync or a power loss (seed 4427: the only synced copy was rolled
    // back by a restore while another region's copy was behind its failed fsync).
    const std::string marker = std::string(kVaultPrefix) + erasure.subject + std::string(1, '\0');
    bool elsewhere = false;
    for (RegionId other = 0; other < o_.regions && !elsewhere; ++other) {
      elsewhere = other != r && regions_[other].disk->DurableContents().contains(marker);
    }
    if (!elsewhere) {
      erasure.lost_with_disk = true;
      ++result_.erasures_lost_with_disk;
      Trace("erasure of subject " + erasure.subject + " lost with the disk of " +
            std::to_string(r) + ": no other region had it yet");
    }
  }
}

bool Simulation::ErasuresSettled() const {
  for (const std::string& subject : erasures_asked_) {
    const bool erased = regions_[0].node->vault().erased(subject);
    for (const Region& region : regions_) {
      if (region.node->vault().erased(subject) != erased) return false;
    }
  }
  return true;
}

void Simulation::CheckErasures() {
  for (const SimErasure& erasure : erasures_) {
    for (RegionId r = 0; r < o_.regions; ++r) {
      if (erasure.acknowledged && !erasure.lost_with_disk &&
          !regions_[r].node->vault().erased(erasure.subject)) {
        checker_.Violation("erasure: the acknowledged erasure of subject " + erasure.subject +
                           " does not hold at region " + std::to_string(r));
      }
    }
  }
  for (const std::string& subject : erasures_asked_) {
    for (RegionId r = 0; r < o_.regions; ++r) {
      const RegionNode& node = *regions_[r].node;
      if (!node.vault().erased(subject)) continue;  // E2 is judged by the loop above
      for (const auto& [key, stored] : node.replica().states()) {
        if (subjects_.SubjectOf(key.key) != subject) continue;
        const Result<KeyState> opened = node.vault().OpenState(subject, key, stored.state);
        if (opened.ok() || opened.status().code() != StatusCode::kGone) {
          checker_.Violation("erasure: region " + std::to_string(r) + " " +
                             std::string(DataClassName(key.data_class)) + " " + key.key +
                             " of erased subject " + subject + " does not answer Gone");
        }
      }
      // The vault's records of the subject: the marker "v" <subject> NUL, and a data key's
      // "v" <subject> NUL <key id> (subject_vault.h).
      const std::string marker = std::string(kVaultPrefix) + subject + std::string(1, '\0');
      size_t kept = 0;
      (void)regions_[r].disk->Scan(marker, [&](std::string_view record, std::string_view) {
        if (record.size() > marker.size()) ++kept;
        return Status::Ok();
      });
      if (kept > 0) {
        checker_.Violation("erasure: region " + std::to_string(r) + "'s disk keeps " +
                           std::to_string(kept) + " data key record(s) of erased subject " +
                           subject);
      }
    }
  }
}

}  // namespace meridian::sim_internal
