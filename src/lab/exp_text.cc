// (issue 16) text: concurrent edits of the `text` class converge, one region cut off for a while.
//   Two clients per region edit the same three keys in their own region, each edit from what it
//   last read there: GET (value, length), then an insert of 1-3 fresh characters at a random
//   position in [0, length], or a delete of 1-2 characters at a random position. Every inserted
//   character is a code point no other insert uses (text_markers.h), so the final text is
//   accounted for character by character. The edits run with all links up, then with the last
//   region cut from the others at the WAN emulator (both sides keep editing); then they stop and
//   the cut is healed.
//   Asserted: every region shows the same text for every key after the heal; no character shown
//   that no acknowledged insert carried, none shown twice, each insert's characters in their
//   order, and no more characters missing than the acknowledged deletes removed. An edit refused
//   with 400 for reaching past the end of the text (a concurrent delete shortened it between the
//   read and the edit) changes nothing and is counted, not acknowledged; any other answer fails.
//   Reported: edits acknowledged and refused per region, the time from the heal until every
//   region shows the same texts, final lengths.
#include <atomic>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/text_markers.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr size_t kKeys = 3;
constexpr size_t kClientsPerRegion = 2;

// What the clients of one region did; the inserts and deletes are per key.
struct RegionTally {
  uint64_t acked = 0;
  // 400 "... the end of the text": a concurrent delete shortened the text since the read (the
  // message says "is past" for an insert's position, "passes" for a delete's range).
  uint64_t refused = 0;
  uint64_t failed = 0;  // anything else (another 400 included), or no answer
  std::string first_failure;
};

struct EditLog {
  std::mutex mu;
  std::vector<RegionTally> regions;
  std::vector<std::vector<TextInsert>> inserts;  // per key, acknowledged
  std::vector<uint64_t> deleted;                 // per key, code points acked deletes removed
};

// One client: edits random keys of `keys` in `region` until `stop`, one edit per `pace`.
void Edit(const LabContext& context, size_t region, uint64_t client_seed,
          const std::vector<std::string>& keys, milliseconds pace, std::atomic<uint32_t>& next,
          const std::atomic<bool>& stop, EditLog& log) {
  std::mt19937_64 random(client_seed);
  const std::string& address = context.region_http[region];
  while (!stop) {
    const Clock::time_point started = Clock::now();
    const size_t k = random() % keys.size();
    auto read = LabCall(address, "GET", "/text/" + keys[k]);
    const Json length_field = read.ok() ? JsonField(read->body, "length") : Json();
    if (!read.ok() || read->status != 200 || !length_field.is_number_unsigned()) {
      {
        std::lock_guard<std::mutex> lock(log.mu);
        if (log.regions[region].failed++ == 0)
          log.regions[region].first_failure =
              "read: " + (read.ok() ? read->body.dump() : read.status().ToString());
      }
      std::this_thread::sleep_until(started + pace);  // a failing region is not hammered
      continue;
    }
    const uint64_t length = length_field.get<uint64_t>();
    Json edit;
    TextInsert insert;
    uint64_t removed = 0;
    if (length == 0 || random() % 100 < 65) {
      const size_t count = 1 + random() % 3;
      std::string text;
      for (size_t c = 0; c < count; ++c) {
        const uint32_t i = next++;
        if (i >= kTextMarkerCapacity) break;
        insert.push_back(i);
        text += TextMarker(i);
      }
      if (insert.empty()) break;  // out of unique characters: this client stops
      edit = Json{{"insert", {{"pos", random() % (length + 1)}, {"text", text}}}};
    } else {
      removed = std::min<uint64_t>(length, 1 + random() % 2);
      edit = Json{{"delete", {{"pos", random() % (length - removed + 1)}, {"len", removed}}}};
    }
    auto reply = LabCall(address, "POST", "/text/" + keys[k], edit.dump());
    {
      std::lock_guard<std::mutex> lock(log.mu);
      RegionTally& tally = log.regions[region];
      if (reply.ok() && reply->status == 200) {
        ++tally.acked;
        if (!insert.empty() && removed == 0) log.inserts[k].push_back(std::move(insert));
        log.deleted[k] += removed;
      } else if (reply.ok() && reply->status == 400 &&
                 reply->body.dump().find("the end of the text") != std::string::npos) {
        ++tally.refused;
      } else if (tally.failed++ == 0) {
        tally.first_failure = reply.ok() ? std::to_string(reply->status) + " " + reply->body.dump()
                                         : reply.status().ToString();
      }
    }
    std::this_thread::sleep_until(started + pace);
  }
}

// Every region's text of every key; empty when a read failed.
std::vector<std::string> ReadTexts(const LabContext& context, const std::vector<std::string>& keys,
                                   size_t region) {
  std::vector<std::string> texts;
  for (const std::string& key : keys) {
    auto read = LabCall(context.region_http[region], "GET", "/text/" + key);
    if (!read.ok() || read->status != 200) return {};
    texts.push_back(JsonString(read->body, "value"));
  }
  return texts;
}

bool AllRegionsEqual(const LabContext& context, const std::vector<std::string>& keys) {
  const std::vector<std::string> first = ReadTexts(context, keys, 0);
  if (first.empty()) return false;
  for (size_t r = 1; r < context.region_count(); ++r) {
    if (ReadTexts(context, keys, r) != first) return false;
  }
  return true;
}

}  // namespace

ExperimentResult RunTextExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "text", "collaborative text: concurrent edits in every region, one cut off, converge");
  if (context.region_count() < 3) {
    result.Assert("the cluster has three regions", false,
                  std::to_string(context.region_count()) + " regions");
    return result;
  }
  const milliseconds connected(context.quick ? 1500 : 10'000);
  const milliseconds cut_off(context.quick ? 1500 : 10'000);
  const milliseconds pace(context.quick ? 20 : 40);  // per client
  const size_t isolated = context.region_count() - 1;
  const std::string isolated_name = context.region_names[isolated];
  std::vector<std::string> keys;
  for (size_t k = 0; k < kKeys; ++k)
    keys.push_back("text-" + std::to_string(context.seed) + "-doc" + std::to_string(k));

  EditLog log;
  log.regions.resize(context.region_count());
  log.inserts.resize(kKeys);
  log.deleted.resize(kKeys);
  std::atomic<uint32_t> next{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (size_t r = 0; r < context.region_count(); ++r) {
    for (size_t c = 0; c < kClientsPerRegion; ++c) {
      clients.emplace_back(Edit, std::cref(context), r,
                           context.seed * 1000 + r * kClientsPerRegion + c, std::cref(keys), pace,
                           std::ref(next), std::cref(stop), std::ref(log));
    }
  }
  std::this_thread::sleep_for(connected);
  int cut_failed = 0;
  for (size_t r = 0; r < isolated; ++r)
    cut_failed += SetWanLinks(context, isolated_name, context.region_names[r], false);
  result.Assert(isolated_name + " is cut from every other region", cut_failed == 0,
                std::to_string(cut_failed) + " proxy calls failed");
  std::this_thread::sleep_for(cut_off);
  stop = true;
  for (std::thread& client : clients)
    client.join();
  const Clock::time_point healed_at = Clock::now();
  int heal_failed = 0;
  for (size_t r = 0; r < isolated; ++r)
    heal_failed += SetWanLinks(context, isolated_name, context.region_names[r], true);
  result.Assert("the cut is healed", heal_failed == 0,
                std::to_string(heal_failed) + " proxy calls failed");
  const bool converged =
      WaitUntil([&] { return AllRegionsEqual(context, keys); }, milliseconds(60'000));
  const double convergence_s = converged ? SecondsSince(healed_at) : -1;

  for (size_t r = 0; r < context.region_count(); ++r) {
    const RegionTally& tally = log.regions[r];
    const std::string& name = context.region_names[r];
    result.Metric(name + " edits acknowledged", static_cast<double>(tally.acked), "edits");
    result.Metric(name + " edits refused (past the end of the text)",
                  static_cast<double>(tally.refused), "edits");
    result.Assert("every edit in " + name + " answered 200, or 400 past the end of the text",
                  tally.failed == 0,
                  std::to_string(tally.failed) + " failed" +
                      (tally.failed > 0 ? " (first: " + tally.first_failure + ")" : ""));
  }
  result.Metric("heal to every region showing the same texts", convergence_s, "s");
  result.Assert("every region shows the same text for every key after the heal", converged,
                converged ? "" : "not within 60 s");

  const std::vector<std::string> texts = ReadTexts(context, keys, 0);
  result.Assert("the final texts were read", texts.size() == kKeys, "");
  for (size_t k = 0; k < texts.size(); ++k) {
    const TextCheck check = CheckText(texts[k], log.inserts[k]);
    const std::string label = "doc" + std::to_string(k);
    result.Metric(label + " final length", static_cast<double>(check.length), "code points");
    result.Metric(label + " code points inserted", static_cast<double>(check.inserted),
                  "code points");
    result.Metric(label + " code points deleted (acknowledged deletes)",
                  static_cast<double>(log.deleted[k]), "code points");
    result.Assert(
        label + ": only inserted characters, none twice, each insert in its order",
        check.decoded && check.unknown == 0 && check.doubled == 0 && check.out_of_order == 0,
        std::string(check.decoded ? "" : "not UTF-8; ") + std::to_string(check.unknown) +
            " unknown, " + std::to_string(check.doubled) + " doubled, " +
            std::to_string(check.out_of_order) + " inserts out of order");
    result.Assert(
        label + ": no inserted character missing beyond what deletes removed",
        check.decoded && check.missing <= log.deleted[k],
        std::to_string(check.missing) + " missing, " + std::to_string(log.deleted[k]) + " deleted");
  }
  result.notes.push_back(
      std::to_string(kClientsPerRegion) + " clients per region, one edit per " +
      std::to_string(pace.count()) + " ms each, on " + std::to_string(kKeys) +
      " keys; all links up for " + std::to_string(connected.count()) + " ms, then " +
      isolated_name + " cut from every other region for " + std::to_string(cut_off.count()) +
      " ms while both sides edit; the edits stop, the cut heals. A delete may remove a character "
      "another region's delete removed concurrently, so the missing count is bounded by the "
      "deletes, not equal to them.");
  return result;
}

}  // namespace meridian
