// The kill experiment's RPO figures and final assertions (kill_state.h reads the regions):
// what only the victim held during the outage (the model RPO of a region lost for good), and
// after failback, whether every region holds exactly the acknowledged writes.
//
// Contract: every wait is bounded (3 s for the survivors to agree during the outage; `settle`
// after failback); figures and assertions go to the ExperimentResult, nothing throws.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lab/kill_load.h"
#include "lab/ledger.h"

namespace meridian {

// Acknowledged writes a survivor lacks while the victim is down, per class.
struct OutageRpo {
  bool survivors_agreed = false;  // the survivors showed one state within the bound
  double counter = 0;             // increments
  double tags = 0;                // members
  double profile = 0;             // fields
  double handle = 0;              // claims (strong reads through a survivor)
};

// REQUIRES: the victim is down; `survivors` non-empty.
OutageRpo MeasureOutageRpo(const LabContext& context, const KillPlan& plan,
                           const std::vector<WriteRecord>& writes,
                           const std::vector<size_t>& survivors);
void ReportOutageRpo(const OutageRpo& rpo, const std::string& victim, ExperimentResult& result);

// Polls every region until it holds every acknowledged write (counter within the
// never-acknowledged bound, every member and field, all regions identical), reads every claim
// back through the victim, and records the RPO-after-recovery figures and the assertions.
void VerifyAfterFailback(const LabContext& context, const KillPlan& plan,
                         const std::vector<WriteRecord>& writes, size_t victim_id,
                         std::chrono::milliseconds settle, ExperimentResult& result);

}  // namespace meridian
