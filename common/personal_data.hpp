// Which fields of which event types hold personal data: declared next to the events in domain/,
// handed by the wiring to the event store, which seals those fields with the data subject's key
// (crypto-shredding, see eventstore/sealing.hpp and the README's "Erasure").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eventcrm {

// The personal fields of one event type. The data subject is the event's stream (a contact's
// fields belong to `contact-<id>`); each path names a string member of the event's JSON data,
// dotted for nested objects ("profile.email"). Absent and null members are left alone.
struct PersonalFields {
  std::string type;  // "contact.created.v1"
  std::vector<std::string> paths;
};

using PersonalDataPolicy = std::vector<PersonalFields>;

// What a personal field reads back as once its subject's key is destroyed.
inline constexpr std::string_view kErasedMarker = "[erased]";

}  // namespace eventcrm
