#include "sim/workload.h"

#include <algorithm>
#include <string>

namespace meridian {
namespace {

const char* const kFields[] = {"name", "email", "bio", "city"};
const char* const kTags[] = {"a", "b", "c", "d", "e", "f"};
// Writes that delete their whole key (any class): often enough that, with the twins, deletes
// meet concurrent writes on every class in most seeds; rarely enough that keys keep a value.
constexpr double kDeleteShare = 0.08;
// Reads in one read series: the first takes a lease, the next ones use it, the last outlive it.
constexpr uint32_t kReadsPerSeries = 4;

LwwMapOp ProfileBody(Random& random, uint64_t id) {
  LwwMapOp op;
  const uint64_t kind = random.Uniform(20);
  if (kind < 2) {
    op.clear = true;  // a blob-mode PUT of an empty object
    return op;
  }
  if (kind < 3) op.clear = true;  // blob-mode PUT: replaces the whole object
  if (kind >= 3 && kind < 6) {
    op.fields.push_back({kFields[random.Uniform(4)], std::nullopt});  // delete one field
    return op;
  }
  const uint64_t n = 1 + random.Uniform(2);
  for (uint64_t i = 0; i < n; ++i) {
    op.fields.push_back(
        {kFields[(id + i) % 4], "v" + std::to_string(id) + "." + std::to_string(i)});
  }
  return op;
}

TagsWrite TagsBody(Random& random) {
  TagsWrite t;
  if (random.Chance(0.4)) {
    t.remove.push_back(kTags[random.Uniform(6)]);
  } else {
    t.add.push_back(kTags[random.Uniform(6)]);
    if (random.Chance(0.3)) {
      std::string second = kTags[random.Uniform(6)];
      if (second != t.add.front()) t.add.push_back(second);
    }
  }
  return t;
}

// One or two edits, by code point position, of a text the client cannot see: a position past
// the text where the write arrives is refused there (400 over HTTP) and changes nothing. Texts
// with several-byte code points, so that positions and bytes differ.
TextWrite TextBody(Random& random) {
  const char* const kTexts[] = {"a", "bc", "\u00e9", "\u4e2d\u6587", "xyz", "\U0001F642"};
  TextWrite t;
  const uint64_t edits = random.Chance(0.15) ? 2 : 1;
  for (uint64_t i = 0; i < edits; ++i) {
    // Mostly inserts near the start, so that most edits fit the few code points a text holds.
    if (random.Chance(0.8)) {
      t.edits.push_back(
          {true, random.Chance(0.5) ? 0 : random.Uniform(4), kTexts[random.Uniform(6)], 0});
    } else {
      t.edits.push_back({false, random.Uniform(3), "", 1 + random.Uniform(2)});
    }
  }
  return t;
}

ClientWrite MakeWrite(Random& random, DataClass c, std::string key, uint64_t id) {
  ClientWrite w;
  w.target = {c, std::move(key)};
  if (random.Chance(kDeleteShare)) {
    w.body = KeyDelete{};
    if (random.Chance(0.7)) w.idempotency_key = "req-" + std::to_string(id);
    return w;
  }
  switch (c) {
    case DataClass::kProfile:
      w.body = ProfileBody(random, id);
      break;
    case DataClass::kCounter: {
      int64_t delta = random.Range(-5, 10);
      w.body = delta == 0 ? int64_t{1} : delta;
      break;
    }
    case DataClass::kTags:
      w.body = TagsBody(random);
      break;
    case DataClass::kRegister:
      w.body = "r" + std::to_string(id);
      break;
    case DataClass::kText:
      w.body = TextBody(random);
      break;
    case DataClass::kStock:
      MERIDIAN_ASSERT_MSG(false, "stock writes come from StockWrite");
      break;
  }
  if (random.Chance(0.7)) w.idempotency_key = "req-" + std::to_string(id);
  return w;
}

}  // namespace

std::vector<PlannedWrite> GenerateWorkload(const SimOptions& o, Random& random) {
  std::vector<PlannedWrite> out;
  auto add = [&](DataClass c, const std::string& key, RegionId home, uint64_t at) {
    PlannedWrite p;
    p.write.id = out.size();
    p.write.write = MakeWrite(random, c, key, p.write.id);
    p.home = home;
    p.first_at_ms = at;
    out.push_back(std::move(p));
  };
  while (out.size() < o.client_writes) {
    const DataClass c = kAllDataClasses[random.Uniform(4)];
    const std::string key = "k" + std::to_string(random.Uniform(o.keys_per_class));
    const RegionId home = static_cast<RegionId>(random.Uniform(o.regions));
    const uint64_t at = random.Uniform(o.workload_ms);
    add(c, key, home, at);
    if (o.regions > 1 && random.Chance(0.25)) {
      // The twin: same key, another region, inside the replication window. Sometimes at the very
      // same millisecond, so HLC ties (broken by region id) really happen.
      const RegionId other =
          static_cast<RegionId>((home + 1 + random.Uniform(o.regions - 1)) % o.regions);
      const uint64_t gap = random.Chance(0.3) ? 0 : random.Uniform(o.rtt_ms[home][other] / 2);
      add(c, key, other, at + gap);
    }
  }
  // Text writes, appended, from a generator of their own so that every draw above stays as it
  // was. Twins as above: concurrent edits of one text are the point.
  Random texts(o.seed ^ 0x7e47'7e47'5eedULL);
  const size_t text_end = out.size() + o.text_writes;
  while (out.size() < text_end) {
    // Three texts at most: edits of one text must meet.
    const std::string key = "k" + std::to_string(texts.Uniform(std::min(3u, o.keys_per_class)));
    const RegionId home = static_cast<RegionId>(texts.Uniform(o.regions));
    const uint64_t at = texts.Uniform(o.workload_ms);
    PlannedWrite p;
    p.write.id = out.size();
    p.write.write = MakeWrite(texts, DataClass::kText, key, p.write.id);
    p.home = home;
    p.first_at_ms = at;
    out.push_back(std::move(p));
    if (o.regions > 1 && texts.Chance(0.3) && out.size() < text_end) {
      const RegionId other =
          static_cast<RegionId>((home + 1 + texts.Uniform(o.regions - 1)) % o.regions);
      PlannedWrite twin;
      twin.write.id = out.size();
      twin.write.write = MakeWrite(texts, DataClass::kText, key, twin.write.id);
      twin.home = other;
      twin.first_at_ms = at + texts.Uniform(o.rtt_ms[home][other] / 2);
      out.push_back(std::move(twin));
    }
  }
  // Stock writes, likewise on a generator of their own. Two stocks: adds of 1-6 units, takes of
  // 1-4, twice as many takes, so that stocks sell out and rights must move to be used.
  Random stocks(o.seed ^ 0x5e0c'4b0a'11ULL);
  for (uint32_t i = 0; i < o.stock_writes; ++i) {
    PlannedWrite p;
    p.write.id = out.size();
    p.write.write.target = {DataClass::kStock, "k" + std::to_string(stocks.Uniform(2))};
    const bool adds = stocks.Chance(0.35);
    p.write.write.body = StockWrite{adds ? StockOpKind::kAdd : StockOpKind::kTake,
                                    adds ? 1 + stocks.Uniform(6) : 1 + stocks.Uniform(4), 0};
    if (stocks.Chance(0.7)) p.write.write.idempotency_key = "req-" + std::to_string(p.write.id);
    p.home = static_cast<RegionId>(stocks.Uniform(o.regions));
    p.first_at_ms = stocks.Uniform(o.workload_ms);
    out.push_back(std::move(p));
  }
  // Write levels (RegionNode contract 5), from a generator of their own so that every draw
  // above stays as it was: some writes wait for a majority or for every region.
  if (o.regions > 1) {
    Random levels(o.seed ^ 0x1e7e'15ea'd5ULL);
    for (PlannedWrite& p : out) {
      const uint64_t roll = levels.Uniform(100);
      if (roll < o.majority_writes_percent) {
        p.level = WriteLevel::kMajority;
      } else if (roll < o.majority_writes_percent + o.all_writes_percent) {
        p.level = WriteLevel::kAll;
      }
      p.write.needs_majority = p.level != WriteLevel::kCount;
    }
  }
  return out;
}

std::vector<StateKey> PinnedKeys(const SimOptions& o) {
  std::vector<StateKey> keys;
  if (o.residency.empty()) return keys;
  for (DataClass c : kAllDataClasses) {
    // Pinned texts and stocks: not yet (their draws would shift).
    if (c == DataClass::kText || c == DataClass::kStock) continue;
    for (uint64_t n = 0; n < std::max<uint64_t>(1, o.keys_per_class / 2); ++n)
      keys.push_back({c, PinnedKey(c, n)});
  }
  return keys;
}

std::vector<PlannedWrite> GeneratePinnedWorkload(const SimOptions& o, Random& random,
                                                 uint64_t first_id) {
  std::vector<PlannedWrite> out;
  const std::vector<StateKey> keys = PinnedKeys(o);
  if (keys.empty()) return out;
  auto add = [&](DataClass c, const std::string& key, RegionId home, uint64_t at) {
    PlannedWrite p;
    p.write.id = first_id + out.size();
    p.write.write = MakeWrite(random, c, key, p.write.id);
    p.home = home;
    p.first_at_ms = at;
    out.push_back(std::move(p));
  };
  while (out.size() < o.pinned_writes) {
    const auto& [c, key] = keys[random.Uniform(keys.size())];
    const RegionId home = static_cast<RegionId>(random.Uniform(o.regions));
    const uint64_t at = random.Uniform(o.workload_ms);
    add(c, key, home, at);
    if (random.Chance(0.3)) out.back().level = WriteLevel::kMajority;
    if (o.regions > 1 && random.Chance(0.25)) {
      const RegionId other =
          static_cast<RegionId>((home + 1 + random.Uniform(o.regions - 1)) % o.regions);
      add(c, key, other, at + random.Uniform(o.rtt_ms[home][other] / 2));
    }
  }
  return out;
}

std::vector<PlannedHandleOp> GenerateHandleWorkload(const SimOptions& o, Random& random) {
  std::vector<PlannedHandleOp> out;
  const char* const owners[] = {"ann", "ben", "cat"};
  auto name = [&]() {
    std::string n = HandleName(o, random.Uniform(std::max(1u, o.handle_names)));
    if (random.Chance(0.2)) n[0] = 'H';  // the same handle, case-folded by the node
    return n;
  };
  while (out.size() < o.handle_ops) {
    const uint64_t at = random.Uniform(o.workload_ms);
    if (o.regions > 1 && random.Chance(0.15)) {
      // A burst: every region claims the same name for a different owner at nearly once.
      const std::string n = name();
      for (RegionId r = 0; r < o.regions && out.size() < o.handle_ops; ++r) {
        out.push_back({{HandleOpKind::kClaim, n, owners[r % 3]}, r, at + random.Uniform(20)});
      }
      continue;
    }
    const uint64_t kind = random.Uniform(20);
    HandleRequest request{HandleOpKind::kRead, name(), ""};
    if (kind < 9) {
      request.kind = HandleOpKind::kClaim;
    } else if (kind < 15) {
      request.kind = HandleOpKind::kRelease;
    }
    if (request.kind != HandleOpKind::kRead) request.owner = owners[random.Uniform(3)];
    out.push_back({request, static_cast<RegionId>(random.Uniform(o.regions)), at});
  }
  // Read series (read leases, StrongNode invariant 11): one region reads one name a few times,
  // 50-450 ms apart, so that its later reads fall inside the lease its first read took and then
  // beyond it, while the rest of the workload claims and releases around them. From a generator
  // of its own, so the draws above (and so what a seed replays) are unchanged.
  Random series(o.seed ^ 0x1ea5'e5ea'd5ULL);
  for (uint32_t s = 0; s < o.handle_read_series && o.handle_names > 0; ++s) {
    const auto region = static_cast<RegionId>(series.Uniform(o.regions));
    const std::string n = HandleName(o, series.Uniform(o.handle_names));
    uint64_t at = series.Uniform(o.workload_ms);
    for (uint32_t i = 0; i < kReadsPerSeries; ++i) {
      out.push_back({{HandleOpKind::kRead, n, ""}, region, at});
      at += 50 + series.Uniform(400);
    }
  }
  return out;
}

}  // namespace meridian
