#include "lab/residency_load.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <thread>

#include "lab/lab_context.h"

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

// Between two rounds of a client (one write per class, pinned and unpinned): with four clients
// about 400 writes/s at most, well within what the machine running the whole cluster serves,
// so failover and partitions, not saturation, decide what is answered.
constexpr auto kResidencyPacing = std::chrono::milliseconds(10);
// Profile writes set one new field each; a key takes this many before the next key starts.
constexpr size_t kFieldsPerProfile = 50;

std::string Padded(size_t index, int width) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%0*zu", width, index);
  return buffer;
}

const char* ShortName(ResidencyClass kind) {
  static constexpr std::array<const char*, 4> kShort = {"reg", "prof", "ctr", "tags"};
  return kShort[static_cast<size_t>(kind)];
}

void ClientLoop(const std::stop_token& stop, const ResidencyPlan& plan, const std::string& client,
                const std::atomic<int>& phase, std::vector<ResidencyWrite>& out) {
  std::array<std::array<size_t, 2>, 4> next_index{};  // per class, per pinned
  auto next = Clock::now();
  while (!stop.stop_requested()) {
    for (ResidencyClass kind : kResidencyClasses) {
      const bool covered = std::find(plan.pinned_classes.begin(), plan.pinned_classes.end(),
                                     kind) != plan.pinned_classes.end();
      for (bool pinned : {true, false}) {
        if (pinned && !covered) continue;
        size_t& index = next_index[static_cast<size_t>(kind)][pinned ? 1 : 0];
        ResidencyWrite write = MakeResidencyWrite(plan, kind, pinned, client, index++);
        write.phase = phase.load();
        SendResidencyWrite(plan, write);
        out.push_back(std::move(write));
      }
    }
    next = std::max(next + kResidencyPacing, Clock::now());
    std::this_thread::sleep_until(next);
  }
}

}  // namespace

const char* ResidencyClassName(ResidencyClass kind) {
  switch (kind) {
    case ResidencyClass::kRegister:
      return "register";
    case ResidencyClass::kProfile:
      return "profile";
    case ResidencyClass::kCounter:
      return "counter";
    case ResidencyClass::kTags:
      return "tags";
  }
  return "?";
}

ResidencyWrite MakeResidencyWrite(const ResidencyPlan& plan, ResidencyClass kind, bool pinned,
                                  const std::string& client, size_t index) {
  ResidencyWrite write;
  write.kind = kind;
  write.pinned = pinned;
  write.client = client;
  // Pinned keys start with the rule's prefix; unpinned ones with "open-", which no rule names.
  const std::string stem = std::string(pinned ? plan.prefix : "open-") + "res-" + plan.seed + "-" +
                           ShortName(kind) + "-" + client;
  const std::string value_stem = std::string(pinned ? "pinned-" : "open-") + plan.seed + "-" +
                                 ShortName(kind) + "-" + client + "-" + Padded(index, 6);
  switch (kind) {
    case ResidencyClass::kRegister:
      write.key = stem + "-" + Padded(index, 6);
      write.value = value_stem;
      break;
    case ResidencyClass::kProfile:
      write.key = stem + "-" + Padded(index / kFieldsPerProfile, 4);
      write.field = "f" + Padded(index, 6);
      write.value = value_stem;
      break;
    case ResidencyClass::kCounter:
      write.key = stem + "-all";  // every increment of this client to one counter
      break;
    case ResidencyClass::kTags:
      write.key = stem + "-all";  // every member of this client to one set
      write.value = value_stem;
      break;
  }
  return write;
}

void SendResidencyWrite(const ResidencyPlan& plan, ResidencyWrite& write) {
  SendResidencyWriteTo(plan.router, plan.start, write);
}

void SendResidencyWriteTo(const std::string& address, std::chrono::steady_clock::time_point start,
                          ResidencyWrite& write) {
  LabHeaders headers = {{"X-Client-Region", write.client}};
  Result<LabReply> reply = Unavailable("not sent");
  switch (write.kind) {
    case ResidencyClass::kRegister:
      reply = LabCall(address, "PUT", "/register/" + write.key,
                      nlohmann::json{{"value", write.value}}.dump(), std::move(headers),
                      kResidencyWriteTimeout);
      break;
    case ResidencyClass::kProfile:
      reply = LabCall(address, "PUT", "/profile/" + write.key,
                      nlohmann::json{{write.field, write.value}}.dump(), std::move(headers),
                      kResidencyWriteTimeout);
      break;
    case ResidencyClass::kCounter:
      reply = LabCall(address, "POST", "/counter/" + write.key + "/incr", "", std::move(headers),
                      kResidencyWriteTimeout);
      break;
    case ResidencyClass::kTags:
      reply = LabCall(address, "POST", "/tags/" + write.key,
                      nlohmann::json{{"add", {write.value}}}.dump(), std::move(headers),
                      kResidencyWriteTimeout);
      break;
  }
  write.done_s = SecondsSince(start);
  if (!reply.ok()) {
    write.failure = reply.status().ToString();
    return;
  }
  write.status = reply->status;
  write.served_by = LabHeader(*reply, "X-Meridian-Region");
  write.acked = reply->status == 200;
  if (!write.acked)
    write.failure = "HTTP " + std::to_string(reply->status) + " " + reply->body.dump();
}

void RunResidencyLoad(const ResidencyPlan& plan, const std::atomic<int>& phase,
                      std::vector<ResidencyWrite>& writes, const std::function<void()>& during) {
  std::vector<std::vector<ResidencyWrite>> per_client(plan.clients.size());
  {
    std::vector<std::jthread> threads;
    for (size_t c = 0; c < plan.clients.size(); ++c) {
      threads.emplace_back([&, c](const std::stop_token& stop) {
        ClientLoop(stop, plan, plan.clients[c], phase, per_client[c]);
      });
    }
    during();
    for (std::jthread& thread : threads)
      thread.request_stop();
  }  // joined here
  for (std::vector<ResidencyWrite>& client_writes : per_client)
    writes.insert(writes.end(), std::make_move_iterator(client_writes.begin()),
                  std::make_move_iterator(client_writes.end()));
}

}  // namespace meridian
