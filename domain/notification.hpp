// Notification requests decided alongside other events (e.g. "you were assigned a lead"); a
// consumer delivers them. They live in the stream of the record they are about.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/context.hpp"

namespace eventcrm::domain::notification {

struct Requested {
  static constexpr std::string_view kType = "notification.requested.v1";
  std::string notification_id;
  std::string recipient_id;
  std::string kind;          // "assignment"
  std::string subject_type;  // "lead", "opportunity"
  std::string subject_id;
  std::optional<std::string> account_id;
  std::string message;
  std::string requested_by;
  Timestamp requested_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("notification_id", s.notification_id);
    f("recipient_id", s.recipient_id);
    f("kind", s.kind);
    f("subject_type", s.subject_type);
    f("subject_id", s.subject_id);
    f("account_id", s.account_id);
    f("message", s.message);
    f("requested_by", s.requested_by);
    f("requested_at", s.requested_at);
  }
  bool operator==(const Requested&) const = default;
};

// The notice for an assignment, when the setting is on and the rep did not assign themself.
std::optional<Requested> for_assignment(const Context& ctx, std::string_view subject_type,
                                        std::string_view subject_id,
                                        const std::optional<std::string>& account_id,
                                        std::string_view recipient_id, std::string_view title);

std::string encode(const Requested& e);
std::vector<std::string_view> event_types();

}  // namespace eventcrm::domain::notification
