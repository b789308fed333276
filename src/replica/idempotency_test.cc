// An Idempotency-Key deduplicates only a retry of the same request (class, key and body); a
// reuse with anything different is refused and changes nothing, in the region that took the
// original and in every region the record replicated to (issue 19, item 2).
#include "replica/idempotency.h"

#include <gtest/gtest.h>

#include "replica/replica.h"

namespace meridian {
namespace {

ReplicaOptions Options(RegionId self, RegionId count = 2) {
  ReplicaOptions o;
  o.self = self;
  o.region_count = count;
  return o;
}

ClientWrite Incr(const std::string& key, int64_t by, std::string idempotency_key) {
  return ClientWrite{{DataClass::kCounter, key}, std::move(idempotency_key), by};
}

int64_t CounterValue(const Replica& r, const std::string& key) {
  auto state = r.Read({DataClass::kCounter, key}).state;
  return state ? *std::get<PnCounter>(*state).Value() : 0;
}

void Deliver(const Output& out, Replica& to) {
  Output ignored;
  for (const auto& [dest, m] : out.messages) {
    if (dest == to.self()) to.OnMessage(m.from(), m, 1000, &ignored);
  }
}

// One write of each class, and a variant of it that differs only in its body.
struct Pair {
  ClientWrite original;
  ClientWrite different;
};

std::vector<Pair> OneOfEachClass() {
  const std::string k = "key-1";
  auto profile = [&](std::string name) {
    return ClientWrite{{DataClass::kProfile, "p"}, k, LwwMapOp{false, {{"name", name}}}};
  };
  auto tags = [&](std::vector<std::string> add) {
    return ClientWrite{{DataClass::kTags, "t"}, k, TagsWrite{std::move(add), {}}};
  };
  auto reg = [&](std::string value) {
    return ClientWrite{{DataClass::kRegister, "r"}, k, std::move(value)};
  };
  return {{Incr("c", 1, k), Incr("c", 50, k)},
          {Incr("c", 1, k), Incr("c", -1, k)},  // decr by=1 after incr by=1
          {profile("ann"), profile("bob")},
          {tags({"a"}), tags({"a", "b"})},
          {reg("x"), reg("y")}};
}

TEST(IdempotencyTest, ReuseWithADifferentBodyIsRefusedAndChangesNothing) {
  for (const Pair& pair : OneOfEachClass()) {
    Replica r(Options(0));
    Output first;
    ASSERT_TRUE(r.OnClientWrite(pair.original, 1000, &first).ok());
    const VersionVector before = r.applied();
    const ReadResult state_before = r.Read(pair.original.target);

    Output out;
    auto reused = r.OnClientWrite(pair.different, 1001, &out);
    ASSERT_FALSE(reused.ok()) << DataClassName(pair.original.target.data_class);
    EXPECT_EQ(reused.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(reused.status().message().find("'key-1'"), std::string::npos)
        << reused.status().message();
    EXPECT_TRUE(out.records.empty());
    EXPECT_TRUE(out.messages.empty());
    EXPECT_EQ(r.applied(), before);
    EXPECT_EQ(r.Read(pair.original.target).state, state_before.state);

    // The identical retry is still deduplicated.
    auto retry = r.OnClientWrite(pair.original, 1002, &out);
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_TRUE(retry->deduplicated);
    EXPECT_EQ(r.applied(), before);
  }
}

TEST(IdempotencyTest, TheIssuesRepro) {
  // incr?by=1 then incr?by=50 with the same key: refused (422 at the edge), the value stays 1.
  Replica r(Options(0));
  Output out;
  ASSERT_TRUE(r.OnClientWrite(Incr("visits", 1, "k"), 1000, &out).ok());
  EXPECT_FALSE(r.OnClientWrite(Incr("visits", 50, "k"), 1001, &out).ok());
  EXPECT_EQ(CounterValue(r, "visits"), 1);
}

TEST(IdempotencyTest, ReuseForAnotherKeyIsRefusedNamingTheIdempotencyKey) {
  Replica r(Options(0));
  Output out;
  ASSERT_TRUE(r.OnClientWrite(Incr("c", 7, "req-1"), 1000, &out).ok());
  auto other = r.OnClientWrite(Incr("other", 7, "req-1"), 1001, &out);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("'req-1'"), std::string::npos);
}

TEST(IdempotencyTest, EquivalentBodiesAreTheSameRequest) {
  // Field and element order carry no meaning, so a retry that lists them differently is a retry.
  Replica r(Options(0));
  Output out;
  ClientWrite a{
      {DataClass::kProfile, "p"}, "k", LwwMapOp{false, {{"a", "1"}, {"b", std::nullopt}}}};
  ClientWrite b{
      {DataClass::kProfile, "p"}, "k", LwwMapOp{false, {{"b", std::nullopt}, {"a", "1"}}}};
  ASSERT_TRUE(r.OnClientWrite(a, 1000, &out).ok());
  auto retry = r.OnClientWrite(b, 1001, &out);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->deduplicated);
  // A delete of a field is not a write of an empty value, and a clear is not a merge.
  ClientWrite empty{{DataClass::kProfile, "p"}, "k", LwwMapOp{false, {{"a", "1"}, {"b", ""}}}};
  EXPECT_FALSE(r.OnClientWrite(empty, 1002, &out).ok());
  ClientWrite clear{
      {DataClass::kProfile, "p"}, "k", LwwMapOp{true, {{"a", "1"}, {"b", std::nullopt}}}};
  EXPECT_FALSE(r.OnClientWrite(clear, 1003, &out).ok());

  ClientWrite tags{{DataClass::kTags, "t"}, "t-key", TagsWrite{{"x", "y"}, {"z"}}};
  ClientWrite reordered{{DataClass::kTags, "t"}, "t-key", TagsWrite{{"y", "x"}, {"z"}}};
  ClientWrite swapped{{DataClass::kTags, "t"}, "t-key", TagsWrite{{"z"}, {"x", "y"}}};
  ASSERT_TRUE(r.OnClientWrite(tags, 1004, &out).ok());
  EXPECT_TRUE(r.OnClientWrite(reordered, 1005, &out).ok());
  EXPECT_FALSE(r.OnClientWrite(swapped, 1006, &out).ok());
}

TEST(IdempotencyTest, TheReplicatedRecordRefusesADifferentRequestInAnotherRegion) {
  for (const Pair& pair : OneOfEachClass()) {
    Replica a(Options(0)), b(Options(1));
    Output from_a;
    ASSERT_TRUE(a.OnClientWrite(pair.original, 1000, &from_a).ok());
    Deliver(from_a, b);
    ASSERT_EQ(b.applied(), a.applied());
    const VersionVector before = b.applied();

    Output out;
    auto reused = b.OnClientWrite(pair.different, 1001, &out);
    ASSERT_FALSE(reused.ok()) << DataClassName(pair.original.target.data_class);
    EXPECT_EQ(reused.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(b.applied(), before);

    // A cross-region retry of the same request (the router failing over) is deduplicated.
    auto retry = b.OnClientWrite(pair.original, 1002, &out);
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_TRUE(retry->deduplicated);
    EXPECT_EQ(retry->dot, (Dot{0, 1}));
    EXPECT_EQ(b.applied(), before);
  }
}

TEST(IdempotencyTest, FingerprintsOfAWriteAndOfItsOpAgree) {
  // The region that takes a write compares the request; the regions the op reaches record the
  // op: both must compute the same fingerprint, or a cross-region retry would be refused.
  for (const Pair& pair : OneOfEachClass()) {
    for (const ClientWrite* write : {&pair.original, &pair.different}) {
      Replica a(Options(0)), b(Options(1));
      Output out, ignored;
      ASSERT_TRUE(a.OnClientWrite(*write, 1000, &out).ok());
      Deliver(out, b);
      ASSERT_EQ(b.applied(), a.applied());
      auto retry = b.OnClientWrite(*write, 1001, &ignored);
      ASSERT_TRUE(retry.ok()) << retry.status().ToString();
      EXPECT_TRUE(retry->deduplicated);
    }
  }
  EXPECT_NE(RequestFingerprint(Incr("c", 1, "k")), RequestFingerprint(Incr("c", 2, "k")));
  EXPECT_NE(RequestFingerprint(Incr("c", 1, "k")), RequestFingerprint(Incr("d", 1, "k")));
  // The key is not part of the request's identity: it names the request.
  EXPECT_EQ(RequestFingerprint(Incr("c", 1, "k")), RequestFingerprint(Incr("c", 1, "other")));
}

TEST(IdempotencyTest, RecordCodecKeepsFingerprintsAndReadsOldRecords) {
  IdempotencyTable table;
  Op op;
  op.dot = {0, 1};
  op.stamp = {{1000, 0}, 0};
  op.target = {DataClass::kCounter, "c"};
  op.idempotency_key = "k";
  op.body = int64_t{5};
  const IdempotencyRecord& record = table.Record(op);
  ASSERT_EQ(record.writes.size(), 1u);
  EXPECT_EQ(record.writes[0].fingerprint, RequestFingerprint(Incr("c", 5, "k")));

  pb::IdempotencyRecord encoded;
  IdempotencyTable::Encode(record, &encoded);
  auto decoded = IdempotencyTable::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, record);

  // A record persisted before fingerprints existed: decodes, and a retry with it is deduplicated
  // as before (there is nothing to compare it with).
  pb::IdempotencyRecord old = encoded;
  old.clear_fingerprints();
  auto legacy = IdempotencyTable::Decode(old);
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->writes[0].fingerprint, 0u);
  EXPECT_TRUE(CheckIdempotentRetry("k", *legacy, Incr("c", 6, "k")).ok());
  EXPECT_FALSE(CheckIdempotentRetry("k", *decoded, Incr("c", 6, "k")).ok());
  EXPECT_TRUE(CheckIdempotentRetry("k", *decoded, Incr("c", 5, "k")).ok());

  pb::IdempotencyRecord mismatched = encoded;
  mismatched.add_fingerprints(1);
  EXPECT_FALSE(IdempotencyTable::Decode(mismatched).ok());

  // A merged record learns the fingerprint that a legacy copy of the same write lacked.
  IdempotencyTable other;
  other.Restore("k", *legacy);
  EXPECT_EQ(other.MergeRecord("k", *decoded).writes[0].fingerprint, record.writes[0].fingerprint);
}

}  // namespace
}  // namespace meridian
