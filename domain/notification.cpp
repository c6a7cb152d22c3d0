// Assignment notices.
#include "domain/notification.hpp"

#include "domain/codec.hpp"

namespace eventcrm::domain::notification {

std::optional<Requested> for_assignment(const Context& ctx, std::string_view subject_type,
                                        std::string_view subject_id,
                                        const std::optional<std::string>& account_id,
                                        std::string_view recipient_id, std::string_view title) {
  if (!ctx.assignment_notifications || recipient_id.empty() || recipient_id == ctx.actor) {
    return std::nullopt;
  }
  Requested r;
  r.notification_id = ctx.next_id();
  r.recipient_id = recipient_id;
  r.kind = "assignment";
  r.subject_type = subject_type;
  r.subject_id = subject_id;
  r.account_id = account_id;
  r.message =
      "You were assigned the " + std::string(subject_type) + " \"" + std::string(title) + "\"";
  r.requested_by = ctx.actor;
  r.requested_at = ctx.now;
  return r;
}

std::string encode(const Requested& e) {
  return codec::encode(e);
}
std::vector<std::string_view> event_types() {
  return {Requested::kType};
}

}  // namespace eventcrm::domain::notification
