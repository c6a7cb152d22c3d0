// The event type table. Adding an aggregate module adds one line to kModules.
#include "domain/registry.hpp"

#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "domain/api_key.hpp"
#include "domain/appointment.hpp"
#include "domain/campaign.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/product.hpp"
#include "domain/quote.hpp"
#include "domain/reservation.hpp"
#include "domain/role.hpp"
#include "domain/schema.hpp"
#include "domain/settings.hpp"
#include "domain/stock.hpp"
#include "domain/task.hpp"
#include "domain/user.hpp"
#include "domain/voucher.hpp"
#include "domain/warehouse.hpp"

#include <utility>
#include <variant>

namespace eventcrm::domain {
namespace {

template <class A>
Status<Error> check(std::string_view type, std::string_view json) {
  auto e = A::decode(type, json);
  if (!e)
    return unexpected(std::move(e).error());
  return Ok{};
}

template <class E>
std::span<const std::string_view> personal_of() {
  if constexpr (requires { E::kPersonal; })
    return E::kPersonal;
  else
    return {};
}

// One entry per alternative of the module's event variant.
template <class A, std::size_t... I>
std::vector<EventTypeInfo> entries(std::index_sequence<I...>) {
  using Event = typename A::Event;
  return {EventTypeInfo{std::variant_alternative_t<I, Event>::kType, A::category, &check<A>,
                        &schema::document<std::variant_alternative_t<I, Event>>,
                        personal_of<std::variant_alternative_t<I, Event>>()}...};
}

template <class A>
std::vector<EventTypeInfo> module() {
  return entries<A>(std::make_index_sequence<std::variant_size_v<typename A::Event>>{});
}

std::vector<EventTypeInfo> build() {
  const std::vector<EventTypeInfo> modules[] = {
      module<account::Aggregate>(),   module<contact::Aggregate>(),
      module<lead::Aggregate>(),      module<opportunity::Aggregate>(),
      module<activity::Aggregate>(),  module<appointment::Aggregate>(),
      module<task::Aggregate>(),      module<quote::Aggregate>(),
      module<order::Aggregate>(),     module<contract::Aggregate>(),
      module<settings::Aggregate>(),  module<product::Aggregate>(),
      module<warehouse::Aggregate>(), module<stock::Aggregate>(),
      module<voucher::Aggregate>(),   module<reservation::Aggregate>(),
      module<campaign::Aggregate>(),  module<campaign::Activity>(),
      module<user::Aggregate>(),      module<api_key::Aggregate>(),
      module<role::Aggregate>(),
  };
  std::vector<EventTypeInfo> out;
  for (const auto& m : modules) {
    for (const auto& info : m) {
      bool seen = false;
      for (const auto& e : out)
        seen = seen || e.type == info.type;
      if (!seen)
        out.push_back(info);
    }
  }
  return out;
}

}  // namespace

const std::vector<EventTypeInfo>& event_types() {
  static const std::vector<EventTypeInfo> table = build();
  return table;
}

const EventTypeInfo* find_event_type(std::string_view type) {
  for (const auto& e : event_types()) {
    if (e.type == type)
      return &e;
  }
  return nullptr;
}

PersonalDataPolicy personal_data() {
  PersonalDataPolicy out;
  for (const auto& e : event_types()) {
    if (e.personal.empty())
      continue;
    PersonalFields pf{std::string(e.type), {}};
    for (std::string_view p : e.personal)
      pf.paths.emplace_back(p);
    out.push_back(std::move(pf));
  }
  return out;
}

}  // namespace eventcrm::domain
