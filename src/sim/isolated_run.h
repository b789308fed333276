// RunIsolated: one simulation in a child process.
//
// The self-check builds known bugs into the replica; some of them trip a MERIDIAN_ASSERT inside
// the core (an invariant checked on the way in) before the simulator's own checkers look. That is
// a catch too, and it must not end the self-check, so each such run happens in a fork()ed child:
// an abort becomes a violation naming the assertion.
#pragma once

#include "sim/simulation.h"

namespace meridian {

SimResult RunIsolated(const SimOptions& options);

}  // namespace meridian
