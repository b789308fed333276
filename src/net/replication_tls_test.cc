// Mutual TLS on replication links (contract 7 of replication_transport.h): peers with the
// cluster's certificates replicate; a peer with another CA's certificate, or with a certificate
// naming another region than the one it claims, is refused while the others keep replicating;
// and what crosses the link does not contain the replicated bytes.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/replication_transport.h"
#include "net/testing/tcp_forwarder.h"
#include "tls/certificate_authority.h"

namespace meridian {
namespace {

using namespace std::chrono_literals;
using testing::TcpForwarder;

constexpr auto kWait = 10s;  // generous: two cores are shared by many test binaries
const std::vector<std::string> kNames = {"us", "eu", "ap"};
// What a client wrote; it must never cross the link in the clear.
constexpr std::string_view kSecret = "the-known-value-4f1c9a";

std::string Local(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

pb::PeerMessage Carrying(RegionId from, std::string_view payload) {
  pb::PeerMessage message;
  message.set_from(from);
  message.mutable_repair()->add_entries()->set_storage_key(std::string(payload));
  return message;
}

ReplicationTls TlsFor(const CertificateAuthority& ca, const std::string& name,
                      PeerRole role = PeerRole::kRegion) {
  Result<PemPair> pair = ca.Issue({role, name}, 1);
  EXPECT_TRUE(pair.ok()) << pair.status().ToString();
  return ReplicationTls{ca.pem().cert_pem, pair->cert_pem, pair->key_pem, kNames};
}

// One region's transport and the payloads it received, per sender.
struct Region {
  Region(RegionId self, std::map<RegionId, std::string> peers, std::optional<ReplicationTls> tls)
      : box(std::make_shared<Box>()) {
    ReplicationTransportOptions options = ReplicationTransportOptions::ForTests();
    options.tls = std::move(tls);
    std::shared_ptr<Box> inbox = box;
    transport = std::make_unique<ReplicationTransport>(
        self, "test", Local(0), std::move(peers),
        [inbox](RegionId from, pb::PeerMessage m) {
          std::lock_guard<std::mutex> lock(inbox->mu);
          inbox->received[from].push_back(m.repair().entries(0).storage_key());
        },
        [](RegionId) {}, options);
  }
  void Start() { ASSERT_TRUE(transport->Start().ok()); }
  size_t Count(RegionId from) {
    std::lock_guard<std::mutex> lock(box->mu);
    return box->received[from].size();
  }
  // Sends until `to` has received one (a link may still be opening) or the wait ends.
  bool Deliver(Region& to, RegionId self, RegionId peer) {
    return Eventually(
        [&] {
          if (transport->Connected(peer)) transport->Send(peer, Carrying(self, kSecret));
          return to.Count(self) > 0;
        },
        kWait);
  }

  struct Box {
    std::mutex mu;
    std::map<RegionId, std::vector<std::string>> received;
  };
  std::shared_ptr<Box> box;
  std::unique_ptr<ReplicationTransport> transport;
};

struct Fixture {
  Fixture() {
    Result<CertificateAuthority> made = CertificateAuthority::Create("test CA", 1);
    EXPECT_TRUE(made.ok());
    ca = std::make_unique<CertificateAuthority>(*std::move(made));
  }
  std::unique_ptr<CertificateAuthority> ca;
};

// Two regions dialling each other through relays that record every byte.
void ExpectCapture(bool tls, bool want_secret_visible) {
  Fixture f;
  TcpForwarder to_us, to_eu;
  Region us(0, {{1, to_eu.address()}}, tls ? std::optional(TlsFor(*f.ca, "us")) : std::nullopt);
  Region eu(1, {{0, to_us.address()}}, tls ? std::optional(TlsFor(*f.ca, "eu")) : std::nullopt);
  us.Start();
  eu.Start();
  to_us.Forward(us.transport->port());
  to_eu.Forward(eu.transport->port());
  ASSERT_TRUE(us.Deliver(eu, 0, 1));
  const std::string wire = to_eu.Captured() + to_us.Captured();
  ASSERT_FALSE(wire.empty());
  EXPECT_EQ(wire.find(kSecret) != std::string::npos, want_secret_visible)
      << (tls ? "TLS" : "plaintext") << " link, " << wire.size() << " bytes captured";
}

TEST(ReplicationTlsTest, CapturedLinkBytesDoNotContainTheValue) {
  ExpectCapture(/*tls=*/true, /*want_secret_visible=*/false);
}

// The control: the same capture of a plaintext link shows the value, so the check above can fail.
TEST(ReplicationTlsTest, PlaintextControlShowsTheValue) {
  ExpectCapture(/*tls=*/false, /*want_secret_visible=*/true);
}

// us and eu replicate; a third process dials us as `intruder_claims` with `intruder_tls`.
void ExpectIntruderRefused(const std::function<ReplicationTls(Fixture&)>& intruder_tls,
                           RegionId intruder_claims, const std::string& counted_reason,
                           const std::string& dialer_sees) {
  Fixture f;
  TcpForwarder nowhere;  // refuses: ap is not running
  TcpForwarder to_us;    // eu starts before us's port is known
  Region eu(1, {{0, to_us.address()}, {2, nowhere.address()}}, TlsFor(*f.ca, "eu"));
  eu.Start();
  Region us_real(0, {{1, Local(eu.transport->port())}, {2, nowhere.address()}},
                 TlsFor(*f.ca, "us"));
  us_real.Start();
  to_us.Forward(us_real.transport->port());
  std::map<RegionId, std::string> intruder_peers = {{0, Local(us_real.transport->port())}};
  for (RegionId r = 0; r < 3; ++r) {
    if (r != intruder_claims && r != 0) intruder_peers[r] = nowhere.address();
  }
  Region intruder(intruder_claims, intruder_peers, intruder_tls(f));
  intruder.Start();
  ASSERT_TRUE(us_real.Deliver(eu, 0, 1)) << "us and eu must keep replicating";
  if (!counted_reason.empty()) {
    ASSERT_TRUE(Eventually(
        [&] { return us_real.transport->Stats().peer_auth_refused.count(counted_reason) > 0; },
        kWait))
        << us_real.transport->Stats().last_refusal;
  } else {
    // Refused in the TLS handshake: the intruder's dials fail, nothing reaches the acceptor.
    ASSERT_TRUE(Eventually(
        [&] {
          for (const PeerTransportStats& p : intruder.transport->Stats().peers) {
            if (p.peer == 0 && p.dial_failures >= 1) return true;
          }
          return false;
        },
        kWait));
  }
  for (int i = 0; i < 20; ++i) {
    intruder.transport->Send(0, Carrying(intruder_claims, "forged"));
  }
  // What the refused dialer learns (docs/security.md "Between regions"): the peer's reason when
  // the refusal came after the TLS handshake, only a failing channel when it came inside it.
  auto intruder_error = [&] {
    for (const PeerTransportStats& p : intruder.transport->Stats().peers) {
      if (p.peer == 0) return p.last_error;
    }
    return std::string();
  };
  // A failed dial first records how the stream ended; the peer's reason is added once the
  // call's status arrives (OutboundLink::OnFinished), so wait for it rather than for any error.
  EXPECT_TRUE(
      Eventually([&] { return intruder_error().find(dialer_sees) != std::string::npos; }, kWait))
      << intruder_error();
  EXPECT_FALSE(intruder.transport->Connected(0));
  EXPECT_EQ(us_real.Count(intruder_claims), 0u);
  for (const PeerTransportStats& p : us_real.transport->Stats().peers) {
    if (p.peer == intruder_claims) {
      EXPECT_FALSE(p.inbound_connected);
    }
  }
  ASSERT_TRUE(eu.Deliver(us_real, 1, 0)) << "and the other way";
}

TEST(ReplicationTlsTest, CertificateFromAnotherCaIsRefusedAndCounted) {
  // The intruder trusts the cluster's CA (so it would accept us) and presents a certificate for
  // ap that a rogue CA issued: only us's check of the client certificate can stop it, in the TLS
  // handshake (cluster_chain_verifier.h), which counts it.
  ExpectIntruderRefused(
      [](Fixture& f) {
        Result<CertificateAuthority> rogue = CertificateAuthority::Create("rogue CA", 1);
        EXPECT_TRUE(rogue.ok());
        ReplicationTls tls = TlsFor(*rogue, "ap");
        tls.ca_pem = f.ca->pem().cert_pem;
        return tls;
      },
      2, "untrusted_certificate", "channel failing");
}

TEST(ReplicationTlsTest, CertificateNamingAnotherRegionIsRefusedAndCounted) {
  // eu's genuine certificate, used by a process that claims to be ap.
  ExpectIntruderRefused([](Fixture& f) { return TlsFor(*f.ca, "eu"); }, 2, "region_mismatch",
                        "presented the certificate of meridian://region/eu");
}

TEST(ReplicationTlsTest, RouterCertificateCannotReplicate) {
  ExpectIntruderRefused([](Fixture& f) { return TlsFor(*f.ca, "ap", PeerRole::kRouter); }, 2,
                        "not_a_region", "presented the certificate of meridian://router/ap");
}

}  // namespace
}  // namespace meridian
