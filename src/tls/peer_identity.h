// PeerIdentity: who a Meridian certificate says its holder is, and the names that say it.
//
// Every certificate `meridian certs` issues carries exactly one identity URI in its
// subjectAltName, "meridian://ROLE/NAME" (ROLE: region, router or client), and one DNS name,
// "NAME.ROLE.meridian". The URI is what a region checks against the peer's hello (who may claim
// which region); the DNS name is what gRPC's hostname check matches when a dialer overrides the
// target name (the WAN emulator sits between the dialer and the real address, so the address
// cannot name the peer).
//
// Invariants:
//  1. IdentityUri and ParseIdentityUri round-trip for every valid role and name.
//  2. A name is 1-32 characters of [a-z0-9_-] (region names are a subset), so it can be placed
//     in a URI, a DNS label and a file name without escaping.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace meridian {

enum class PeerRole { kRegion, kRouter, kClient };

struct PeerIdentity {
  PeerRole role = PeerRole::kRegion;
  std::string name;
  bool operator==(const PeerIdentity&) const = default;
};

std::string_view PeerRoleName(PeerRole role);  // "region", "router", "client"

// OK when `name` is 1-32 characters of [a-z0-9_-] (invariant 2).
Status CheckIdentityName(std::string_view name);

// "meridian://region/us". REQUIRES: CheckIdentityName(identity.name).ok().
std::string IdentityUri(const PeerIdentity& identity);
// "us.region.meridian". REQUIRES: CheckIdentityName(identity.name).ok().
std::string IdentityDnsName(const PeerIdentity& identity);

// The identity a "meridian://ROLE/NAME" URI names; InvalidArgument for anything else.
Result<PeerIdentity> ParseIdentityUri(std::string_view uri);

// The identity in a PEM certificate's subjectAltName URIs: exactly one must be a meridian://
// URI. InvalidArgument when the PEM does not parse or the certificate names no identity or
// several. Does not verify the certificate (the TLS handshake did that).
Result<PeerIdentity> PeerIdentityFromPem(std::string_view cert_pem);

}  // namespace meridian
