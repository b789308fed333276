// FillMessage: a structurally valid protobuf message of any type, its content chosen by a fuzzer's
// bytes: the "well-formed but hostile" half of the peer-message fuzz targets.
//
// Raw bytes decoded by protobuf mostly fail to parse or yield messages whose every field is
// absent; this instead walks the message's descriptor and sets fields the way a buggy or
// malicious peer could: small numbers most of the time (region ids, sequence numbers and ballots
// near the ones in use, where the interesting checks are), sometimes extreme ones; strings from
// a small dictionary of names the harness uses, sometimes arbitrary or long bytes; repeated
// fields with a few elements, sometimes many. Nested messages recurse to a bounded depth.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "fuzz/byte_source.h"

namespace meridian::fuzz {

struct FillOptions {
  // Strings the harness knows (its keys, handle names): a pick from these hits existing state.
  std::vector<std::string> dictionary;
  int depth_max = 6;        // nesting is shallow in our protocol; this bounds the work per input
  size_t repeated_max = 4;  // usual element count bound; 1 in 16 repeated fields gets up to 64
};

void FillMessage(ByteSource& in, const FillOptions& options, google::protobuf::Message* message);

}  // namespace meridian::fuzz
