#include "lab/residency_verify.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

ResidencyWrite Write(ResidencyClass kind, const std::string& value, bool acked) {
  ResidencyWrite write;
  write.kind = kind;
  write.key = "user:lab-kept-1:note-000";
  write.value = value;
  write.acked = acked;
  return write;
}

Visibility Check(const nlohmann::json& value, const std::vector<ResidencyWrite>& writes) {
  std::vector<const ResidencyWrite*> pointers;
  for (const ResidencyWrite& write : writes)
    pointers.push_back(&write);
  Visibility seen;
  CheckKeyRead(value, pointers, seen);
  return seen;
}

const ResidencyClass kRegister = ResidencyClass::kRegister;

// The erasure experiment's first run: the second write of a register key had seen the first and
// replaced it. Only the last acknowledged value is owed.
TEST(CheckKeyReadTest, RegisterOverwrittenByALaterWriteIsNotMissing) {
  const std::vector<ResidencyWrite> writes = {Write(kRegister, "v0", true),
                                              Write(kRegister, "v1", true)};
  const Visibility seen = Check(nlohmann::json::array({"v1"}), writes);
  EXPECT_EQ(seen.checked, 1u);
  EXPECT_EQ(seen.missing, 0u);
}

// The second write's region had not seen the first: both stay as siblings.
TEST(CheckKeyReadTest, RegisterConcurrentSiblingsShowTheLastToo) {
  const std::vector<ResidencyWrite> writes = {Write(kRegister, "v0", true),
                                              Write(kRegister, "v1", true)};
  EXPECT_EQ(Check(nlohmann::json::array({"v0", "v1"}), writes).missing, 0u);
}

// The earlier write cannot have replaced the later one: only the first value shown is a loss.
TEST(CheckKeyReadTest, RegisterShowingOnlyAnEarlierValueMissesTheLast) {
  const std::vector<ResidencyWrite> writes = {Write(kRegister, "v0", true),
                                              Write(kRegister, "v1", true)};
  const Visibility seen = Check(nlohmann::json::array({"v0"}), writes);
  EXPECT_EQ(seen.missing, 1u);
  EXPECT_NE(seen.first_missing.find("v1"), std::string::npos) << seen.first_missing;
  EXPECT_EQ(Check(nlohmann::json(), writes).missing, 1u);  // a failed read shows nothing
}

// A write sent after the last acknowledged one timed out but may have been applied, replacing it.
TEST(CheckKeyReadTest, RegisterMayShowALaterUnacknowledgedWrite) {
  const std::vector<ResidencyWrite> writes = {Write(kRegister, "v0", true),
                                              Write(kRegister, "v1", false)};
  EXPECT_EQ(Check(nlohmann::json::array({"v1"}), writes).missing, 0u);
  EXPECT_EQ(Check(nlohmann::json::array({"v0"}), writes).missing, 0u);
  EXPECT_EQ(Check(nlohmann::json::array({"other"}), writes).missing, 1u);
}

TEST(CheckKeyReadTest, RegisterWithoutAcknowledgedWritesOwesNothing) {
  const Visibility seen = Check(nlohmann::json(), {Write(kRegister, "v0", false)});
  EXPECT_EQ(seen.checked, 0u);
  EXPECT_EQ(seen.missing, 0u);
}

// Tags and profile fields accumulate: every acknowledged member and field is owed.
TEST(CheckKeyReadTest, EveryAcknowledgedTagAndFieldIsOwed) {
  const std::vector<ResidencyWrite> tags = {Write(ResidencyClass::kTags, "a", true),
                                            Write(ResidencyClass::kTags, "b", true)};
  EXPECT_EQ(Check(nlohmann::json::array({"a", "b"}), tags).missing, 0u);
  EXPECT_EQ(Check(nlohmann::json::array({"b"}), tags).missing, 1u);
  std::vector<ResidencyWrite> fields = {Write(ResidencyClass::kProfile, "x", true),
                                        Write(ResidencyClass::kProfile, "y", true)};
  fields[0].field = "f000";
  fields[1].field = "f001";
  EXPECT_EQ(Check(nlohmann::json{{"f000", "x"}, {"f001", "y"}}, fields).missing, 0u);
  EXPECT_EQ(Check(nlohmann::json{{"f001", "y"}}, fields).missing, 1u);
}

TEST(CheckKeyReadTest, CounterOwesItsAcknowledgedIncrementsAndCountsExtras) {
  const std::vector<ResidencyWrite> increments = {Write(ResidencyClass::kCounter, "", true),
                                                  Write(ResidencyClass::kCounter, "", true),
                                                  Write(ResidencyClass::kCounter, "", false)};
  EXPECT_EQ(Check(nlohmann::json(2), increments).missing, 0u);
  EXPECT_EQ(Check(nlohmann::json(1), increments).missing, 1u);
  EXPECT_EQ(Check(nlohmann::json(4), increments).doubled, 1u);
}

}  // namespace
}  // namespace meridian
