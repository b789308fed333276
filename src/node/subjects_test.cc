// Subjects in the region node (contract 7): values sealed under a subject's data key everywhere
// but in a reader's reply, keyrings that reach the subject's regions only, and erasures that
// reach a region cut off when it happened.
#include <gtest/gtest.h>

#include "node/node_test_trio.h"

namespace meridian {
namespace {

// Deterministic "random" bytes: the simulator's kind of source, distinct per call.
RandomBytes Counting(RegionId r) {
  auto next = std::make_shared<uint64_t>(uint64_t{r} << 40);
  return [next](uint8_t* out, size_t size) {
    for (size_t i = 0; i < size; ++i)
      out[i] = static_cast<uint8_t>((++*next * 0x9E3779B97F4A7C15ULL) >> 56);
  };
}

void WithSubjects(RegionNodeOptions& o) {
  o.subject_patterns = {ParseSubjectPattern("user:{subject}:").value()};
  o.random_bytes = Counting(o.replica.self);
}
// Subjects whose every key is pinned to eu and eu2 (a subject's keyring goes wherever any of its
// patterns' keys may: with "user:{subject}:" too, that would be every region).
void WithPinnedSubjects(RegionNodeOptions& o) {
  o.subject_patterns = {ParseSubjectPattern("gdpr:{subject}:").value()};
  o.random_bytes = Counting(o.replica.self);
}

WriteCommand SetField(const std::string& key, const std::string& field, const std::string& value) {
  return WriteCommand{
      ClientWrite{{DataClass::kProfile, key}, "", LwwMapOp{false, {{field, value}}}}};
}
WriteCommand Tags(const std::string& key, std::vector<std::string> add,
                  std::vector<std::string> remove = {}) {
  return WriteCommand{ClientWrite{{DataClass::kTags, key}, "", TagsWrite{add, remove}}};
}
ReadCommand Read(DataClass data_class, const std::string& key) {
  return ReadCommand{{data_class, key}, std::nullopt, Consistency::kLocal};
}

void ExpectOk(const NodeReply& reply) {
  if (const auto* status = std::get_if<Status>(&reply.result)) {
    ADD_FAILURE() << status->ToString();
  }
}
StatusCode CodeOf(const NodeReply& reply) {
  const auto* status = std::get_if<Status>(&reply.result);
  return status == nullptr ? StatusCode::kOk : status->code();
}
std::string FieldOf(const NodeReply& reply, const std::string& field) {
  const auto* read = std::get_if<ReadResult>(&reply.result);
  if (read == nullptr || !read->state) return "<none>";
  const auto visible = std::get<LwwMap>(*read->state).Visible();
  auto it = visible.find(field);
  return it == visible.end() ? "<none>" : it->second;
}
std::vector<std::string> ElementsOf(const NodeReply& reply) {
  const auto* read = std::get_if<ReadResult>(&reply.result);
  if (read == nullptr || !read->state) return {};
  return std::get<OrSet>(*read->state).Elements();
}
size_t VaultRecords(Trio& t, RegionId r) {
  size_t n = 0;
  EXPECT_TRUE(t.disks_[r]
                  ->Scan(kVaultPrefix,
                         [&n](std::string_view, std::string_view value) {
                           n += value.size() == kDataKeyBytes ? 1 : 0;
                           return Status::Ok();
                         })
                  .ok());
  return n;
}

TEST(SubjectsTest, ValuesAreSealedEverywhereButInAReadersReply) {
  Trio t(WithSubjects);
  t.Settle();
  ExpectOk(t.Command(kUs, SetField("user:alice:profile", "email", "alice@example.com")));
  ExpectOk(t.Command(kUs, Tags("user:alice:tags", {"vip", "beta"})));
  ExpectOk(t.Command(kUs, SetField("plain:bob", "email", "bob@example.com")));
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2}) {
    EXPECT_EQ(FieldOf(t.Command(r, Read(DataClass::kProfile, "user:alice:profile")), "email"),
              "alice@example.com");
    EXPECT_EQ(ElementsOf(t.Command(r, Read(DataClass::kTags, "user:alice:tags"))),
              (std::vector<std::string>{"beta", "vip"}));
    const std::string stored = t.StoredBytes(r);
    EXPECT_EQ(stored.find("alice@example.com"), std::string::npos) << "region " << r;
    EXPECT_EQ(stored.find("vip"), std::string::npos) << "region " << r;
    EXPECT_NE(stored.find("bob@example.com"), std::string::npos) << "not a subject's key";
    EXPECT_EQ(VaultRecords(t, r), 1u) << "one data key, replicated";
  }
  EXPECT_EQ(t.seen_by_us_.find("vip"), std::string::npos);

  // A remove finds the sealed element; a restart recovers the keyring from the disk.
  ExpectOk(t.Command(kEu, Tags("user:alice:tags", {}, {"vip"})));
  t.nodes_[kEu] = t.Start(kEu);
  t.SetLinks(kEu, true);
  t.Settle();
  EXPECT_EQ(ElementsOf(t.Command(kEu, Read(DataClass::kTags, "user:alice:tags"))),
            std::vector<std::string>{"beta"});
  EXPECT_EQ(ElementsOf(t.Command(kEu2, Read(DataClass::kTags, "user:alice:tags"))),
            std::vector<std::string>{"beta"});
}

TEST(SubjectsTest, AnErasureReachesARegionThatWasCutOffAndDestroysTheKeysEverywhere) {
  Trio t(WithSubjects);
  t.Settle();
  ExpectOk(t.Command(kUs, SetField("user:alice:profile", "email", "alice@example.com")));
  ExpectOk(t.Command(
      kUs, WriteCommand{ClientWrite{{DataClass::kCounter, "user:alice:visits"}, "", int64_t{7}}}));
  t.Settle();
  t.Cut(kEu2);
  const NodeReply erased = t.Command(kUs, EraseCommand{"alice"});
  ExpectOk(erased);
  t.Settle();
  for (RegionId r : {kUs, kEu}) {
    EXPECT_EQ(CodeOf(t.Command(r, Read(DataClass::kProfile, "user:alice:profile"))),
              StatusCode::kGone);
    EXPECT_EQ(CodeOf(t.Command(r, Read(DataClass::kCounter, "user:alice:visits"))),
              StatusCode::kGone);
    EXPECT_EQ(VaultRecords(t, r), 0u);
  }
  // eu2 was cut off: it still serves alice until it hears of the erasure.
  EXPECT_EQ(FieldOf(t.Command(kEu2, Read(DataClass::kProfile, "user:alice:profile")), "email"),
            "alice@example.com");
  t.Heal(kEu2);
  t.Settle();
  EXPECT_EQ(CodeOf(t.Command(kEu2, Read(DataClass::kProfile, "user:alice:profile"))),
            StatusCode::kGone);
  EXPECT_EQ(VaultRecords(t, kEu2), 0u);
  EXPECT_EQ(t.nodes_[kEu2]->stats().subjects_erased, 1u);
  // Erased is forever; other subjects are untouched; a scan leaves erased keys out.
  EXPECT_EQ(CodeOf(t.Command(kEu, SetField("user:alice:profile", "email", "new@example.com"))),
            StatusCode::kGone);
  ExpectOk(t.Command(kEu, SetField("user:carol:profile", "email", "carol@example.com")));
  t.Settle();
  const NodeReply page =
      t.Command(kEu2, ScanCommand{DataClass::kProfile, "user:", std::nullopt, 10});
  const auto& entries = std::get<ScanResult>(page.result).entries;
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].first.key, "user:carol:profile");
  EXPECT_EQ(std::get<LwwMap>(entries[0].second).Visible().at("email"), "carol@example.com");
  // The counter's key was deleted by a replicated delete, not only made unreadable.
  const ReadResult counter =
      t.nodes_[kEu2]->replica().Read({DataClass::kCounter, "user:alice:visits"});
  ASSERT_TRUE(counter.state.has_value());
  EXPECT_EQ(std::get<PnCounter>(*counter.state).Value().value(), 0);
}

TEST(SubjectsTest, KeysMadeOnBothSidesOfAPartitionBothOpenAndARemoveFindsEither) {
  Trio t(WithSubjects);
  t.Settle();
  t.Cut(kUs);
  ExpectOk(t.Command(kUs, Tags("user:dan:tags", {"x", "y"})));
  ExpectOk(t.Command(kEu, Tags("user:dan:tags", {"x", "z"})));
  t.Heal(kUs);
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2}) {
    EXPECT_EQ(ElementsOf(t.Command(r, Read(DataClass::kTags, "user:dan:tags"))),
              (std::vector<std::string>{"x", "y", "z"}));
    EXPECT_EQ(VaultRecords(t, r), 2u) << "both keys everywhere";
  }
  ExpectOk(t.Command(kEu2, Tags("user:dan:tags", {}, {"x"})));
  t.Settle();
  EXPECT_EQ(ElementsOf(t.Command(kUs, Read(DataClass::kTags, "user:dan:tags"))),
            (std::vector<std::string>{"y", "z"}));
}

TEST(SubjectsTest, KeysRideAlongWithTheValuesSealedUnderThem) {
  // Every keyring message is lost: the ops carry the keys of the values they hold.
  Trio t(WithSubjects);
  t.drop_ = [](const pb::PeerMessage& m) { return m.has_subject_keys(); };
  t.Settle();
  ExpectOk(t.Command(kUs, SetField("user:hal:profile", "email", "hal@example.com")));
  ExpectOk(t.Command(kUs, Tags("user:hal:tags", {"x"})));
  t.Settle();
  for (RegionId r : {kEu, kEu2}) {
    EXPECT_EQ(FieldOf(t.Command(r, Read(DataClass::kProfile, "user:hal:profile")), "email"),
              "hal@example.com");
    EXPECT_EQ(ElementsOf(t.Command(r, Read(DataClass::kTags, "user:hal:tags"))),
              std::vector<std::string>{"x"});
  }
  // An erasure rides along with its deletes too.
  ExpectOk(t.Command(kEu, EraseCommand{"hal"}));
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2}) {
    EXPECT_EQ(CodeOf(t.Command(r, Read(DataClass::kProfile, "user:hal:profile"))),
              StatusCode::kGone);
    EXPECT_EQ(VaultRecords(t, r), 0u);
  }
}

TEST(SubjectsTest, AValueWhoseKeyHasNotArrivedIsNeitherShownNorMissedByARemove) {
  // us never sends its keyrings (the self-check's seeded bug): its ops reach eu without the key.
  Trio t([](RegionNodeOptions& o) {
    WithSubjects(o);
    o.bugs.subject_keys_unsent = o.replica.self == kUs;
  });
  t.Settle();
  ExpectOk(t.Command(kUs, Tags("user:gus:tags", {"x"})));
  t.Settle();
  EXPECT_EQ(CodeOf(t.Command(kEu, Read(DataClass::kTags, "user:gus:tags"))),
            StatusCode::kUnavailable);
  EXPECT_EQ(CodeOf(t.Command(kEu, Tags("user:gus:tags", {}, {"x"}))), StatusCode::kUnavailable);
  // An add needs no other key: eu seals under its own.
  ExpectOk(t.Command(kEu, Tags("user:gus:tags", {"y"})));
  t.Settle();
  EXPECT_EQ(ElementsOf(t.Command(kUs, Read(DataClass::kTags, "user:gus:tags"))),
            (std::vector<std::string>{"x", "y"}))
      << "eu's key reached us, so us opens both";
}

TEST(SubjectsTest, APinnedSubjectsKeyringNeverLeavesItsRegions) {
  Trio t(WithPinnedSubjects);
  t.Settle();
  ExpectOk(t.Command(kEu, SetField("gdpr:erin:profile", "email", "erin@example.com")));
  t.Settle();
  EXPECT_EQ(FieldOf(t.Command(kEu2, Read(DataClass::kProfile, "gdpr:erin:profile")), "email"),
            "erin@example.com");
  EXPECT_EQ(t.seen_by_us_.find("erin"), std::string::npos);
  EXPECT_EQ(VaultRecords(t, kUs), 0u);
  EXPECT_EQ(CodeOf(t.Command(kUs, EraseCommand{"erin"})), StatusCode::kMisdirected);
  ExpectOk(t.Command(kEu2, EraseCommand{"erin"}));
  t.Settle();
  EXPECT_EQ(CodeOf(t.Command(kEu, Read(DataClass::kProfile, "gdpr:erin:profile"))),
            StatusCode::kGone);
  EXPECT_EQ(t.nodes_[kUs]->stats().subject_keys_refused, 0u);
}

TEST(SubjectsTest, KeyringsFromOutsideTheSubjectsRegionsOrMalformedAreRefused) {
  Trio t(WithPinnedSubjects);
  t.Settle();
  auto send = [&](RegionId from, pb::SubjectKeyEntry entry) {
    pb::PeerMessage m;
    m.set_from(from);
    *m.mutable_subject_keys()->add_entries() = std::move(entry);
    NodeOutput out;
    t.nodes_[kEu]->OnPeerMessage(from, m, t.now(), &out);
    t.Take(kEu, std::move(out));
  };
  pb::SubjectKeyEntry erase;
  erase.set_subject("frank");
  erase.set_erased(true);
  send(kUs, erase);  // us may not hold gdpr:frank: -> its word does not count
  EXPECT_EQ(t.nodes_[kEu]->stats().subject_keys_refused, 1u);
  EXPECT_FALSE(t.nodes_[kEu]->vault().erased("frank"));
  pb::SubjectKeyEntry bad;
  bad.set_subject("frank");
  auto* key = bad.add_keys();
  key->set_id(7);
  key->set_key("short");
  send(kEu2, bad);
  EXPECT_EQ(t.nodes_[kEu]->stats().subject_keys_refused, 2u);
  send(kEu2, erase);  // a member's erasure is taken
  EXPECT_TRUE(t.nodes_[kEu]->vault().erased("frank"));
  EXPECT_EQ(t.nodes_[kEu]->stats().subjects_erased, 1u);
}

TEST(SubjectsTest, ValuesAndTagsAtTheApisLimitsStillReplicateOnceSealed) {
  Trio t(WithSubjects);
  t.Settle();
  const std::string element(512, 'e');            // the API's longest tag element
  const std::string value(size_t{1} << 20, 'v');  // and longest value
  ExpectOk(t.Command(kUs, Tags("user:hal:tags", {element})));
  ExpectOk(t.Command(kUs, SetField("user:hal:profile", "f", value)));
  t.Settle();
  EXPECT_EQ(ElementsOf(t.Command(kEu, Read(DataClass::kTags, "user:hal:tags"))),
            std::vector<std::string>{element});
  EXPECT_EQ(FieldOf(t.Command(kEu, Read(DataClass::kProfile, "user:hal:profile")), "f"), value);
}

TEST(SubjectsTest, PatternsAndSubjectIdsAreValidated) {
  EXPECT_FALSE(ParseSubjectPattern("user:").ok());
  EXPECT_FALSE(ParseSubjectPattern("{subject}:x").ok());
  EXPECT_FALSE(ParseSubjectPattern("a{subject}b{subject}").ok());
  SubjectVault vault({ParseSubjectPattern("user:{subject}:").value()}, Counting(0));
  EXPECT_EQ(vault.SubjectOf("user:alice:email"), "alice");
  EXPECT_EQ(vault.SubjectOf("user:alice"), std::nullopt) << "the suffix ends the id";
  EXPECT_EQ(vault.SubjectOf("user::x"), std::nullopt) << "an empty id is none";
  EXPECT_EQ(vault.SubjectOf("other:alice:"), std::nullopt);
  EXPECT_FALSE(CheckSubjectId(std::string(kSubjectBytesMax + 1, 'a')).ok());
}

}  // namespace
}  // namespace meridian
