// The table of every event type the domain defines, built from the aggregate modules: which
// module (stream category) owns it and a decoder to check a payload. Projections, the API's
// event log and the Kafka consumers use it to know and validate types without a switch.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/personal_data.hpp"

#include "domain/error.hpp"

namespace eventcrm::domain {

struct EventTypeInfo {
  std::string_view type;      // "opportunity.stage_changed.v1"
  std::string_view category;  // the module whose streams carry it ("opportunity")
  // Decodes the payload with the type's codec; a validation error says what is wrong.
  Status<Error> (*check)(std::string_view type, std::string_view json);
  // The JSON Schema of its payload, generated from the codec's field description (published in
  // domain/schemas/<type>.json by `eventcrm schemas --write`).
  std::string (*schema)();
  // Its personal fields (the event's `kPersonal`, JSON paths), sealed in the log.
  std::span<const std::string_view> personal = {};
};

// Every known event type once, in module order (a type shared by several modules, such as
// notification.requested.v1, is listed with the first).
const std::vector<EventTypeInfo>& event_types();
const EventTypeInfo* find_event_type(std::string_view type);

// The personal fields of every event type that has some: what the event store seals.
PersonalDataPolicy personal_data();

}  // namespace eventcrm::domain
