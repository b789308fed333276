// Cutting and healing links between two regions at the WAN emulator, through its toxiproxy-shaped
// admin API (what `meridian chaos partition` does): the replication proxies both ways and the
// router's client paths both ways. Used by the `partition` and `residency` experiments.
#pragma once

#include <string>

#include "lab/lab_context.h"

namespace meridian {

// Disables (enabled = false) or enables every proxy between regions `a` and `b`: a->b, b->a,
// client-a->b, client-b->a. Returns how many of the four calls failed (0: all done).
int SetWanLinks(const LabContext& context, const std::string& a, const std::string& b,
                bool enabled);

// The same for one proxy by its name ("us->ap": us's replication link to ap, one direction).
// True when the emulator answered 200.
bool SetWanProxy(const LabContext& context, const std::string& proxy, bool enabled);

}  // namespace meridian
