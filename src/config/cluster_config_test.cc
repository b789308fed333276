#include "config/cluster_config.h"

#include <gtest/gtest.h>

#include <string>

namespace meridian {
namespace {

// A small valid config; each bad-config case below edits one spot of it.
constexpr std::string_view kBase = R"(regions:
  - name: us
    http: 127.0.0.1:7101
    replication: 127.0.0.1:7201
    data_dir: data/us
  - name: eu
    http: 127.0.0.1:7102
    replication: 127.0.0.1:7202
    data_dir: data/eu
  - name: ap
    http: 127.0.0.1:7103
    replication: 127.0.0.1:7203
    data_dir: data/ap
topology: mesh
links:
  - between: [us, eu]
    rtt_ms: 80
    jitter_ms: 10
  - between: [us, ap]
    rtt_ms: 150
    jitter_ms: 10
  - between: [eu, ap]
    rtt_ms: 120
    jitter_ms: 10
wan:
  admin: 127.0.0.1:8474
  base_port: 9000
router:
  http: 127.0.0.1:7000
)";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  const size_t at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

// 1-based line of the first occurrence of `needle`.
int LineOf(std::string_view text, std::string_view needle) {
  const size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos) << needle;
  int line = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    line += text[i] == '\n';
  }
  return line;
}

TEST(ClusterConfigTest, CommittedDefaultParses) {
  Result<ClusterConfig> config = LoadClusterConfig(MERIDIAN_SOURCE_DIR "/deploy/local.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->regions.size(), 3u);
  EXPECT_EQ(config->regions[0].name, "us");
  EXPECT_EQ(config->regions[2].replication.ToString(), "127.0.0.1:7203");
  EXPECT_EQ(config->topology, Topology::kMesh);
  EXPECT_EQ(config->LinkBetween(1, 0).rtt_ms, 80);
  EXPECT_EQ(config->LinkBetween(0, 2).rtt_ms, 150);
  EXPECT_EQ(config->LinkBetween(2, 1).rtt_ms, 120);
  EXPECT_EQ(config->LinkBetween(2, 1).jitter_ms, 10);
  EXPECT_EQ(config->wan.admin.ToString(), "127.0.0.1:8474");
  EXPECT_EQ(config->router.http.ToString(), "127.0.0.1:7000");
  ASSERT_TRUE(config->router.resp.has_value());
  EXPECT_EQ(config->router.resp->ToString(), "127.0.0.1:6400");
  EXPECT_EQ(config->regions[1].resp->ToString(), "127.0.0.1:6402");
  EXPECT_EQ(*config->RegionIdByName("ap"), 2u);
  EXPECT_FALSE(config->RegionIdByName("mars").has_value());
}

// The EU residency config: four regions and a rule keeping "gdpr:" in eu and eu2; the rule
// survives a format round trip, and a subset keeps the rule's regions that remain.
TEST(ClusterConfigTest, CommittedResidencyConfigParses) {
  Result<ClusterConfig> config = LoadClusterConfig(MERIDIAN_SOURCE_DIR "/deploy/local-eu2.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->regions.size(), 4u);
  EXPECT_EQ(config->LinkBetween(1, 3).rtt_ms, 20);
  ASSERT_EQ(config->residency.size(), 2u);
  EXPECT_EQ(config->residency[0].prefix, "gdpr:");
  EXPECT_EQ(config->residency[0].regions, (std::vector<RegionId>{1, 3}));
  EXPECT_EQ(config->residency[1].prefix, "eu.");
  EXPECT_EQ(config->residency[1].data_class, "handle");
  auto again = ParseClusterConfig(FormatClusterConfig(*config), "formatted");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->residency, config->residency);
  ASSERT_TRUE(config->subjects.has_value());
  EXPECT_EQ(config->subjects->patterns.size(), 2u);
  EXPECT_EQ(again->subjects, config->subjects);
  auto three = SubsetClusterConfig(*config, {"us", "eu", "ap"}, Topology::kMesh);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->residency[0].regions, (std::vector<RegionId>{1}));
  EXPECT_FALSE(SubsetClusterConfig(*config, {"us", "ap"}, Topology::kMesh).ok());
}

TEST(ClusterConfigTest, BadResidencyRulesAndSubjectPatternsAreRefusedWithTheirLine) {
  const std::string base = R"(regions:
  - {name: us, http: 127.0.0.1:7101, replication: 127.0.0.1:7201, data_dir: d/us}
  - {name: eu, http: 127.0.0.1:7102, replication: 127.0.0.1:7202, data_dir: d/eu}
links:
  - {between: [us, eu], rtt_ms: 80}
wan: {admin: 127.0.0.1:8474, base_port: 9000}
router: {http: 127.0.0.1:7000}
)";
  for (const char* bad :
       {"residency:\n  - {prefix: a, regions: [mars]}\n",
        "residency:\n  - {prefix: a, regions: []}\n",
        "residency:\n  - {prefix: a, regions: [eu], class: blob}\n",
        "residency:\n  - {prefix: 'eu:', regions: [eu], class: handle}\n",
        "residency:\n  - {prefix: a, regions: [eu, eu]}\n",
        "residency:\n  - {prefix: a, regions: [eu]}\n  - {prefix: a, regions: [us]}\n"}) {
    auto config = ParseClusterConfig(base + bad, "t.yaml");
    EXPECT_FALSE(config.ok()) << bad;
    if (!config.ok()) {
      EXPECT_NE(config.status().message().find("residency"), std::string::npos);
    }
  }
  for (const char* bad :
       {"subjects: {patterns: [], master_key_dir: k}\n",
        "subjects: {patterns: ['user:'], master_key_dir: k}\n",
        "subjects: {patterns: ['{subject}:'], master_key_dir: k}\n",
        "subjects: {patterns: ['u:{subject}', 'u:{subject}'], master_key_dir: k}\n",
        "subjects: {patterns: ['u:{subject}']}\n"}) {
    auto config = ParseClusterConfig(base + bad, "t.yaml");
    EXPECT_FALSE(config.ok()) << bad;
    if (!config.ok()) {
      EXPECT_NE(config.status().message().find("subjects"), std::string::npos);
    }
  }
  EXPECT_TRUE(ParseClusterConfig(base + "residency:\n  - {prefix: a, regions: [eu], class: tags}\n",
                                 "t.yaml")
                  .ok());
}

TEST(ClusterConfigTest, ProxyLayoutIsDerivedFromBasePort) {
  Result<ClusterConfig> config = ParseClusterConfig(kBase, "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const std::vector<WanProxy> proxies = WanProxyLayout(*config);
  ASSERT_EQ(proxies.size(), 12u);
  EXPECT_EQ(proxies[0].name, "us->eu");
  EXPECT_EQ(proxies[0].listen.ToString(), "127.0.0.1:9001");
  EXPECT_EQ(proxies[0].upstream.ToString(), "127.0.0.1:7202");
  EXPECT_EQ(proxies[0].rtt_ms, 80);
  EXPECT_EQ(proxies[6].name, "client-us->eu");
  EXPECT_EQ(proxies[6].kind, ProxyKind::kClient);
  EXPECT_EQ(proxies[6].listen.ToString(), "127.0.0.1:9101");
  EXPECT_EQ(proxies[6].upstream.ToString(), "127.0.0.1:7102");
  EXPECT_EQ(ReplicationDialAddress(*config, 2, 0).ToString(), "127.0.0.1:9020");
  EXPECT_EQ(ClientDialAddress(*config, 1, 2).ToString(), "127.0.0.1:9112");
  EXPECT_EQ(ClientDialAddress(*config, 1, 1).ToString(), "127.0.0.1:7102");
}

TEST(ClusterConfigTest, TopologyDecidesDirectPeers) {
  Result<ClusterConfig> hub =
      ParseClusterConfig(Replace(kBase, "topology: mesh", "topology: hub\nhub: eu"), "t");
  ASSERT_TRUE(hub.ok()) << hub.status().ToString();
  EXPECT_EQ(hub->Peers(0), std::vector<RegionId>{1});
  EXPECT_EQ(hub->Peers(1), (std::vector<RegionId>{0, 2}));
  Result<ClusterConfig> ring = ParseClusterConfig(Replace(kBase, "mesh", "ring"), "t");
  ASSERT_TRUE(ring.ok()) << ring.status().ToString();
  EXPECT_TRUE(ring->ReplicatesDirectly(0, 2));
  EXPECT_FALSE(ring->ReplicatesDirectly(1, 1));
}

TEST(ClusterConfigTest, HostPortParsing) {
  EXPECT_EQ(ParseHostPort("[::1]:80")->host, "::1");
  EXPECT_EQ(ParseHostPort("[::1]:80")->ToString(), "[::1]:80");
  EXPECT_EQ(ParseHostPort("localhost:0")->port, 0);
  for (const char* bad : {"", ":80", "host", "host:", "host:65536", "ho st:1", "h:-1", "[zz]:1"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

TEST(ClusterConfigTest, MissingFileIsNotFound) {
  Result<ClusterConfig> config = LoadClusterConfig("/nonexistent/meridian.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
}

struct BadCase {
  std::string_view from;     // text of kBase to replace
  std::string_view to;       // its replacement
  std::string_view path;     // field path the error must name
  std::string_view message;  // part of the error message
  std::string_view anchor;   // text on the reported line (default: `to`)
};

const BadCase kBadCases[] = {
    {"rtt_ms: 150", "rtt_ms: -3", "links[1].rtt_ms", "must be a non-negative integer", ""},
    {"rtt_ms: 150", "rtt_ms: fast", "links[1].rtt_ms", "must be a non-negative integer", ""},
    {"rtt_ms: 120", "rtt_msec: 120", "links[2].rtt_msec", "unknown key", ""},
    {"topology: mesh", "topolgy: mesh", "topolgy", "unknown key", ""},
    {"  - name: eu", "  - name: us", "regions[1].name", "duplicate region name",
     "name: us\n    http: 127.0.0.1:7102"},
    {"data_dir: data/ap", "data_dir: data/us", "regions[2].data_dir", "data_dir",
     "data_dir: data/us\ntopology"},
    {"http: 127.0.0.1:7102", "http: 127.0.0.1:7101", "regions[1].http",
     "already used by regions[0].http", "http: 127.0.0.1:7101\n    replication: 127.0.0.1:7202"},
    {"http: 127.0.0.1:7000", "http: 127.0.0.1:9001", "wan.base_port (proxy us->eu)",
     "already used by router.http", "base_port"},
    {"between: [eu, ap]", "between: [eu, mars]", "links[2].between[1]", "unknown region 'mars'",
     "between: [eu, mars]"},
    {"between: [us, eu]", "between: [us, us]", "links[0].between", "two different regions", ""},
    {"between: [eu, ap]", "between: [eu, us]", "links[2]", "duplicate link", ""},
    {"  - between: [eu, ap]\n    rtt_ms: 120\n    jitter_ms: 10\n", "", "links",
     "missing entry for the pair [eu, ap]", "links:"},
    {"admin: 127.0.0.1:8474", "admin: 127.0.0.1", "wan.admin", "expected host:port", ""},
    {"127.0.0.1:7203", "127.0.0.1:99999", "regions[2].replication", "port must be", ""},
    {"    data_dir: data/eu\n", "", "regions[1].data_dir", "is required", "- name: eu"},
    {"rtt_ms: 80", "rtt_ms: 5", "links[0].jitter_ms", "must not exceed rtt_ms", "jitter_ms"},
    {"topology: mesh", "topology: hub", "hub", "is required when topology is hub", ""},
    {"topology: mesh", "topology: hub\nhub: mars", "hub", "unknown region", "hub: mars"},
    {"topology: mesh", "topology: star", "topology", "must be one of mesh, hub, ring", ""},
    {"rtt_ms: 80", "rtt_ms: 80\n    rtt_ms: 90", "links[0].rtt_ms", "duplicate key", "rtt_ms: 90"},
    {"base_port: 9000", "base_port: 65500", "wan.base_port", "must be at most", ""},
    {"  http: 127.0.0.1:7000", "  http: [127.0.0.1:7000]", "router.http", "host:port", ""},
    {"  - name: ap", "  - name: Asia Pacific", "regions[2].name", "[a-z0-9_-]", ""},
};

TEST(ClusterConfigTest, BadConfigsNameFieldAndLine) {
  for (const BadCase& c : kBadCases) {
    const std::string text = Replace(kBase, c.from, c.to);
    Result<ClusterConfig> config = ParseClusterConfig(text, "test.yaml");
    ASSERT_FALSE(config.ok()) << "accepted: " << c.to;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
    const std::string_view anchor = c.anchor.empty() ? c.to : c.anchor;
    const std::string where =
        "test.yaml:" + std::to_string(LineOf(text, anchor)) + ": " + std::string(c.path) + ": ";
    const std::string message = config.status().message();
    EXPECT_EQ(message.rfind(where, 0), 0u) << "want prefix '" << where << "' in: " << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
  }
}

// router.resp: optional, a listener like any other, and only with a resp listener per region.
TEST(ClusterConfigTest, RouterRespListener) {
  std::string text(kBase);
  for (const char* region : {"1", "2", "3"}) {
    text = Replace(
        text, std::string("replication: 127.0.0.1:720") + region,
        std::string("replication: 127.0.0.1:720") + region + "\n    resp: 127.0.0.1:640" + region);
  }
  Result<ClusterConfig> without = ParseClusterConfig(text, "test.yaml");
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_FALSE(without->router.resp.has_value());

  const std::string with =
      Replace(text, "  http: 127.0.0.1:7000", "  http: 127.0.0.1:7000\n  resp: 127.0.0.1:6400");
  Result<ClusterConfig> config = ParseClusterConfig(with, "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->router.resp.has_value());
  EXPECT_EQ(config->router.resp->ToString(), "127.0.0.1:6400");
  Result<ClusterConfig> again = ParseClusterConfig(FormatClusterConfig(*config), "formatted");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->router.resp, config->router.resp);

  Result<ClusterConfig> clash =
      ParseClusterConfig(Replace(with, "resp: 127.0.0.1:6400", "resp: 127.0.0.1:6402"), "t.yaml");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("router.resp: port 6402 is already used by "
                                          "regions[1].resp"),
            std::string::npos)
      << clash.status().message();

  Result<ClusterConfig> missing =
      ParseClusterConfig(Replace(with, "\n    resp: 127.0.0.1:6403", ""), "t.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "router.resp: needs every region to have a resp listener; region ap has none"),
            std::string::npos)
      << missing.status().message();
}

TEST(ClusterConfigTest, AuthAndAdminListeners) {
  Result<ClusterConfig> off = ParseClusterConfig(kBase, "test.yaml");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->auth.has_value());  // no section: authentication off
  EXPECT_FALSE(off->regions[0].admin.has_value());

  std::string text = Replace(kBase, "replication: 127.0.0.1:7201",
                             "replication: 127.0.0.1:7201\n    admin: 127.0.0.1:7301");
  text += "auth:\n  keys_file: keys.txt\n  router_key_file: router.key\n";
  Result<ClusterConfig> on = ParseClusterConfig(text, "test.yaml");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  ASSERT_TRUE(on->auth.has_value());
  EXPECT_EQ(on->auth->keys_file, "keys.txt");
  EXPECT_EQ(on->auth->router_key_file, "router.key");
  ASSERT_TRUE(on->regions[0].admin.has_value());
  EXPECT_EQ(on->regions[0].admin->ToString(), "127.0.0.1:7301");
  Result<ClusterConfig> again = ParseClusterConfig(FormatClusterConfig(*on), "formatted");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->auth, on->auth);
  EXPECT_EQ(again->regions[0].admin, on->regions[0].admin);

  // The admin port is a listener like the others; the key file is required in the section.
  Result<ClusterConfig> clash =
      ParseClusterConfig(Replace(text, "admin: 127.0.0.1:7301", "admin: 127.0.0.1:7102"), "t");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("already used"), std::string::npos);
  Result<ClusterConfig> no_file =
      ParseClusterConfig(Replace(text, "  keys_file: keys.txt\n", ""), "t.yaml");
  ASSERT_FALSE(no_file.ok());
  EXPECT_NE(no_file.status().message().find("keys_file"), std::string::npos)
      << no_file.status().message();
}

TEST(ClusterConfigTest, MoreThanMaxRegionsIsRejected) {
  std::string text = "regions:\n";
  for (int i = 0; i <= static_cast<int>(kMaxRegions); ++i) {
    const std::string n = std::to_string(i);
    text += "  - {name: r" + n + ", http: 127.0.0.1:71" + n + "0, replication: 127.0.0.1:72" + n +
            "0, data_dir: d" + n + "}\n";
  }
  Result<ClusterConfig> config = ParseClusterConfig(text, "big.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("big.yaml:1: regions: at most 8 regions"),
            std::string::npos)
      << config.status().message();
}

TEST(ClusterConfigTest, MalformedYamlAndWrongShapesAreErrors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"regions: [\n", "test.yaml:"},
      {"", "test.yaml:1: (top level): must be a map"},
      {"- a\n- b\n", "test.yaml:1: (top level): must be a map"},
      {"regions: 3\n", "test.yaml:1: regions: must be a list"},
      {"regions: []\n", "test.yaml:1: regions: must list at least one region"},
      {"regions:\n  - name: us\n    name: eu\n", "test.yaml:3: regions[0].name: duplicate key"},
      {"regions:\n  - [1, 2]\n", "test.yaml:2: regions[0]: must be a map"},
      {"? [a]\n: 1\n", "(top level): map keys must be scalars"},
  };
  for (const auto& [text, want] : cases) {
    Result<ClusterConfig> config = ParseClusterConfig(text, "test.yaml");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_NE(config.status().message().find(want), std::string::npos)
        << "want '" << want << "' in: " << config.status().message();
  }
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

TEST(ClusterConfigFormatTest, FormattedConfigParsesBackToTheSameConfig) {
  auto config = LoadClusterConfig(std::string(MERIDIAN_SOURCE_DIR) + "/deploy/local.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->regions[0].data_dir = "/tmp/a dir/with \"quotes\"";
  const std::string text = FormatClusterConfig(*config);
  auto again = ParseClusterConfig(text, "formatted");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << text;
  EXPECT_EQ(FormatClusterConfig(*again), text);
  EXPECT_EQ(again->regions[0].data_dir, "/tmp/a dir/with \"quotes\"");
  EXPECT_EQ(again->links.size(), config->links.size());
}

TEST(ClusterConfigFormatTest, SubsetKeepsConfigOrderLinksAndTopology) {
  auto config = LoadClusterConfig(std::string(MERIDIAN_SOURCE_DIR) + "/deploy/local.yaml");
  ASSERT_TRUE(config.ok());
  auto subset = SubsetClusterConfig(*config, {"ap", "us"}, Topology::kHub);
  ASSERT_TRUE(subset.ok()) << subset.status().ToString();
  ASSERT_EQ(subset->regions.size(), 2u);
  EXPECT_EQ(subset->regions[0].name, "us");  // config order, not the order asked
  EXPECT_EQ(subset->regions[1].name, "ap");
  ASSERT_EQ(subset->links.size(), 1u);
  EXPECT_EQ(subset->links[0].rtt_ms, config->LinkBetween(0, 2).rtt_ms);
  EXPECT_EQ(subset->hub, RegionId{0});
  EXPECT_TRUE(ParseClusterConfig(FormatClusterConfig(*subset), "subset").ok());

  auto alone = SubsetClusterConfig(*config, {"eu"}, Topology::kMesh);
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->links.empty());
  auto parsed = ParseClusterConfig(FormatClusterConfig(*alone), "alone");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();

  auto unknown = SubsetClusterConfig(*config, {"us", "mars"}, Topology::kMesh);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("mars"), std::string::npos);
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

// tls: optional; names a certificate directory, or says plaintext on purpose; round-trips.
TEST(ClusterConfigTlsTest, ParsesFormatsAndRejectsBadSections) {
  Result<ClusterConfig> none = ParseClusterConfig(kBase, "test.yaml");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->tls.has_value());

  for (const char* section : {"tls:\n  dir: certs\n", "tls:\n  dir: \"my certs\"\n  client: true\n",
                              "tls:\n  plaintext: true\n"}) {
    Result<ClusterConfig> config = ParseClusterConfig(std::string(kBase) + section, "test.yaml");
    ASSERT_TRUE(config.ok()) << section << config.status().ToString();
    ASSERT_TRUE(config->tls.has_value());
    Result<ClusterConfig> again = ParseClusterConfig(FormatClusterConfig(*config), "formatted");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->tls, config->tls) << section;
  }
  Result<ClusterConfig> with =
      ParseClusterConfig(std::string(kBase) + "tls:\n  dir: c\n  client: true\n", "t");
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with->tls->dir, "c");
  EXPECT_TRUE(with->tls->client);
  EXPECT_FALSE(with->tls->plaintext);

  const std::pair<const char*, const char*> bad[] = {
      {"tls:\n  client: true\n", "needs dir"},
      {"tls:\n  dir: certs\n  plaintext: true\n", "excludes dir"},
      {"tls:\n  dir: certs\n  client: yes\n", "must be true or false"},
      {"tls:\n  dir: certs\n  ca: ca.pem\n", "unknown key"},
      {"tls: certs\n", "tls"},
      {"tls:\n  dir: \"\"\n", "tls.dir"},
  };
  for (const auto& [section, message] : bad) {
    Result<ClusterConfig> config = ParseClusterConfig(std::string(kBase) + section, "test.yaml");
    ASSERT_FALSE(config.ok()) << "accepted: " << section;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(message), std::string::npos)
        << config.status().message();
  }
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

TEST(ClusterConfigSlicesTest, SlicesParseFormatAndReserveEachRegionsPortsPlusSlice) {
  Result<ClusterConfig> one = ParseClusterConfig(kBase, "test.yaml");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->slices, 1u);
  // kBase's regions use consecutive ports; two slices need every other one.
  std::string spaced = Replace(kBase, "127.0.0.1:7102", "127.0.0.1:7112");
  spaced = Replace(spaced, "127.0.0.1:7202", "127.0.0.1:7212");
  spaced = Replace(spaced, "127.0.0.1:7103", "127.0.0.1:7123");
  spaced = Replace(spaced, "127.0.0.1:7203", "127.0.0.1:7223") + "slices: 2\n";
  Result<ClusterConfig> two = ParseClusterConfig(spaced, "test.yaml");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->slices, 2u);
  Result<ClusterConfig> back = ParseClusterConfig(FormatClusterConfig(*two), "formatted");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->slices, 2u);

  // us' replication is 7201, so its slice 1 listens on 7202: eu may not.
  Result<ClusterConfig> clash =
      ParseClusterConfig(Replace(spaced, "127.0.0.1:7212", "127.0.0.1:7202"), "test.yaml");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("regions[0].replication (slice 1)"), std::string::npos)
      << clash.status().message();
  EXPECT_FALSE(ParseClusterConfig(std::string(kBase) + "slices: 2\n", "test.yaml").ok());

  for (const char* bad : {"slices: 0\n", "slices: 65\n", "slices: two\n"}) {
    Result<ClusterConfig> refused = ParseClusterConfig(std::string(kBase) + bad, "test.yaml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("slices"), std::string::npos)
        << refused.status().message();
  }
}

}  // namespace
}  // namespace meridian
