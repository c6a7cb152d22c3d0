// The event type table. Adding an aggregate module adds one line to kModules.
#include "domain/registry.hpp"

#include "domain/account.hpp"
#include "domain/activity.hpp"
#include "domain/appointment.hpp"
#include "domain/contact.hpp"
#include "domain/contract.hpp"
#include "domain/lead.hpp"
#include "domain/opportunity.hpp"
#include "domain/order.hpp"
#include "domain/quote.hpp"
#include "domain/settings.hpp"
#include "domain/task.hpp"

namespace eventcrm::domain {
namespace {

struct Module {
  std::string_view category;
  std::vector<std::string_view> (*types)();
  Status<Error> (*check)(std::string_view type, std::string_view json);
};

template <class A>
Module module() {
  return Module{A::category, &A::event_types,
                [](std::string_view type, std::string_view json) -> Status<Error> {
                  auto e = A::decode(type, json);
                  if (!e)
                    return unexpected(std::move(e).error());
                  return Ok{};
                }};
}

std::vector<EventTypeInfo> build() {
  const Module modules[] = {
      module<account::Aggregate>(),  module<contact::Aggregate>(),
      module<lead::Aggregate>(),     module<opportunity::Aggregate>(),
      module<activity::Aggregate>(), module<appointment::Aggregate>(),
      module<task::Aggregate>(),     module<quote::Aggregate>(),
      module<order::Aggregate>(),    module<contract::Aggregate>(),
      module<settings::Aggregate>(),
  };
  std::vector<EventTypeInfo> out;
  for (const auto& m : modules) {
    for (auto type : m.types()) {
      bool seen = false;
      for (const auto& e : out)
        seen = seen || e.type == type;
      if (!seen)
        out.push_back({type, m.category, m.check});
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

}  // namespace eventcrm::domain
