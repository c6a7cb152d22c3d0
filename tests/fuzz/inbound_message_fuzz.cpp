// libFuzzer target for the Kafka inbound topics (crm.inbound.*): bytes that external systems
// produce → the message JSON parser (domain/json) → field decoding (domain/codec) → the lead,
// activity and campaign-response commands, against a real store in a temp dir.
//
// Input: the first byte picks the topic (its low bits) and whether the message id is one
// already used (its top bit: redeliveries and reused ids, the idempotency paths); the rest is
// the message value.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "app/command_runner.hpp"
#include "app/inbound.hpp"
#include "common/clock.hpp"
#include "domain/account.hpp"
#include "domain/campaign.hpp"
#include "eventstore/store.hpp"
#include "fuzz_store.hpp"

namespace {

using namespace eventcrm;

// Ids the seed corpus refers to.
constexpr std::string_view kAccount = "fuzz_account";
constexpr std::string_view kCampaign = "fuzz_campaign";

struct World {
  std::unique_ptr<store::EventStore> store;
  SystemClock clock;
  app::RandomIdGenerator ids;
  std::unique_ptr<app::CommandRunner> runner;
  std::uint64_t messages = 0;

  World() {
    store = fuzz::open_fuzz_store("inbound-fuzz").store;
    runner = std::make_unique<app::CommandRunner>(*store, clock, ids);
    app::CommandOptions admin;
    admin.metadata.actor = "fuzz";
    domain::account::Create account;
    account.profile.name = "Fuzz Account";
    domain::campaign::Create campaign;
    campaign.name = "Fuzz Campaign";
    campaign.channel = "email";
    if (!runner->run<domain::account::Aggregate>(kAccount, account, admin) ||
        !runner->run<domain::campaign::Aggregate>(kCampaign, campaign, admin))
      std::abort();
    (void)store->verify();  // OpenSSL's per-thread state now, not counted as a leak later
  }
};

World& world() {
  static World w;
  return w;
}

constexpr app::InboundKind kKinds[] = {app::InboundKind::lead, app::InboundKind::interaction,
                                       app::InboundKind::campaign_response};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  World& w = world();
  const auto kind = kKinds[(data[0] & 0x7f) % 3];
  const std::string id =
      (data[0] & 0x80) != 0 ? "redelivered" : "m-" + std::to_string(++w.messages);
  const std::string_view value(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto out = app::run_inbound(*w.runner, kind, value, id, "kafka:fuzz");
  // Invariants: a healthy store, one thread: never "try again" (that would stall the
  // partition on a message that can never pass); a rejection always says why.
  if (out.kind == app::InboundOutcome::Kind::retry)
    std::abort();
  if (out.kind == app::InboundOutcome::Kind::rejected && out.error.empty())
    std::abort();
  return 0;
}
