// RegionNode: stocks (contract 9). A take beyond this region's rights asks peers for rights and
// waits for their lends. Why this keeps the stock's invariant: a lend is an ordinary stock op of
// the lender, prepared against the lender's own rights like a take (BoundedCounter::Prepare), so
// the node only decides who asks whom for how much; whatever it decides, no region spends rights
// it does not hold. It also never waits on a promise: a lender that refuses, is cut off or dies
// simply lends nothing, and the take is answered 409 at its deadline.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "node/region_node.h"

namespace meridian {
namespace {

const BoundedCounter* StockOf(const Replica& replica, const StateKey& key) {
  const KeyState* state = replica.Find(key);
  return state ? std::get_if<BoundedCounter>(state) : nullptr;
}

}  // namespace

bool RegionNode::WaitForStockRights(RequestId id, size_t group, const WriteCommand& command,
                                    const Status& refusal, NodeTime now, NodeOutput* out) {
  const auto* take = std::get_if<StockWrite>(&command.write.body);
  if (take == nullptr || take->kind != StockOpKind::kTake ||
      refusal.code() != StatusCode::kAborted) {
    return false;
  }
  const Replica& replica = *group_replica(group);
  const BoundedCounter* stock = StockOf(replica, command.write.target);
  const RegionId self = replica.options().self;
  // Sold out as far as this region knows: asking would only delay the same answer. (An add
  // elsewhere not seen yet is not waited for; the client may retry.)
  if (stock == nullptr ||
      static_cast<uint64_t>(std::max<int64_t>(stock->Value(), 0)) < take->amount) {
    return false;
  }
  int64_t missing = static_cast<int64_t>(take->amount) - std::max<int64_t>(stock->Rights(self), 0);
  // Ask the reachable members the view shows holding rights, most first, for what they hold,
  // until the shortfall is covered; if the view shows too little (lends or adds it has not
  // seen), ask every other reachable member for the rest.
  std::vector<std::pair<int64_t, RegionId>> holders;
  std::vector<RegionId> others;
  for (RegionId member = 0; member < GroupSize(group); ++member) {
    if (member == self || !links_verified_[GlobalId(group, member)]) continue;
    const int64_t rights = stock->Rights(member);
    if (rights > 0) {
      holders.emplace_back(rights, member);
    } else {
      others.push_back(member);
    }
  }
  if (holders.empty() && others.empty()) return false;  // nobody to ask
  std::sort(holders.begin(), holders.end(), std::greater<>());
  std::vector<std::pair<RegionId, uint64_t>> asks;
  for (const auto& [rights, member] : holders) {
    if (missing <= 0) break;
    const int64_t ask = std::min(rights, missing);
    asks.emplace_back(member, static_cast<uint64_t>(ask));
    missing -= ask;
  }
  if (missing > 0) {
    for (RegionId member : others)
      asks.emplace_back(member, static_cast<uint64_t>(missing));
    for (auto& [member, amount] : asks)  // the holders' rights may be spent meanwhile too
      amount = std::max<uint64_t>(amount, static_cast<uint64_t>(missing));
  }
  const RegionMask mask = group == 0 ? 0 : options_.residency.groups()[group].mask;
  for (const auto& [member, amount] : asks) {
    pb::PeerMessage message;
    message.set_from(options_.replica.self);
    message.set_sent_physical_ms(now.physical_ms);
    message.set_group(mask);
    pb::StockRightsRequest* request = message.mutable_stock_rights();
    request->set_key(command.write.target.key);
    request->set_amount(amount);
    HoldMessage(GlobalId(group, member), std::move(message), out);
    ++rights_requests_;
  }
  stock_waits_.push_back(
      {id, group, command, now.steady_ms + static_cast<uint64_t>(options_.stock_wait_ms)});
  return true;
}

void RegionNode::OnStockRightsRequest(size_t group, RegionId from,
                                      const pb::StockRightsRequest& request, NodeTime now,
                                      NodeOutput* out) {
  const std::optional<RegionId> borrower = LocalId(group, from);
  if (!borrower || request.key().empty() || request.amount() == 0 ||
      request.amount() > BoundedCounter::kTotalMax) {
    ++peer_messages_refused_;
    return;
  }
  Replica& replica = *MutableGroupReplica(group);
  const StateKey key{DataClass::kStock, request.key()};
  const BoundedCounter* stock = StockOf(replica, key);
  if (stock == nullptr) return;
  const RegionId self = replica.options().self;
  // What Prepare would let this region lend (the seeded double-lend bug counts lent rights too).
  const int64_t spare = stock->Spendable(self, replica.options().bugs.escrow_double_lend);
  if (spare <= 0) return;
  ClientWrite lend;
  lend.target = key;
  lend.body =
      StockWrite{StockOpKind::kLend,
                 std::min<uint64_t>(request.amount(), static_cast<uint64_t>(spare)), *borrower};
  Output step;
  Result<WriteReply> made = replica.OnClientWrite(lend, now.physical_ms, &step);
  if (!made.ok()) return;  // rejoining, or the rights went meanwhile: the borrower times out
  rights_lent_ += std::get<StockWrite>(lend.body).amount;
  Absorb(group, std::move(step), out);
}

void RegionNode::ServeStockWaits(NodeTime now, NodeOutput* out) {
  // In arrival order: a later take never overtakes an earlier one of the same stock.
  // One at a time, each on the state the previous one left.
  std::set<StateKey> blocked;
  for (size_t i = 0; i < stock_waits_.size();) {
    const StateKey& key = stock_waits_[i].command.write.target;
    const auto& take = std::get<StockWrite>(stock_waits_[i].command.write.body);
    if (blocked.count(key) || !group_replica(stock_waits_[i].group)->PrepareStock(take, key).ok()) {
      blocked.insert(key);
      ++i;
      continue;
    }
    StockWait wait = std::move(stock_waits_[i]);
    stock_waits_.erase(stock_waits_.begin() + static_cast<std::ptrdiff_t>(i));
    // Prepared on this very state, so it is taken (or answered as a retry), not refused again.
    HandleWrite(wait.id, std::move(wait.command), now, out);
  }
}

void RegionNode::ExpireStockWaits(NodeTime now, NodeOutput* out) {
  std::erase_if(stock_waits_, [&](const StockWait& wait) {
    if (now.steady_ms < wait.deadline_ms) return false;
    const Replica& replica = *group_replica(wait.group);
    const BoundedCounter* stock = StockOf(replica, wait.command.write.target);
    const int64_t value = stock ? stock->Value() : 0;
    const int64_t rights = stock ? std::max<int64_t>(stock->Rights(replica.options().self), 0) : 0;
    ++stock_refused_;
    out->replies.push_back(
        {wait.id,
         Aborted("stock: " + std::to_string(std::get<StockWrite>(wait.command.write.body).amount) +
                 " units asked; region " + options_.region_names[options_.replica.self] +
                 " holds rights to " + std::to_string(rights) + " of the " + std::to_string(value) +
                 " it shows and no peer lent enough within " +
                 std::to_string(options_.stock_wait_ms) +
                 " ms; nothing was taken: retry, or take less")});
    return true;
  });
}

}  // namespace meridian
