// The appointments read model: GET /v1/appointments and /v1/appointments/{id}, and the index the
// reminder scheduler reads (pending reminders by their time).
#pragma once

#include <memory>

#include "app/reminders.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

class Runtime;

inline constexpr std::string_view kAppointments = "appointments";
const records::Spec& appointments_spec();
std::unique_ptr<Projection> make_appointments();

// Pending reminders due at a time, earliest first, read from the served appointments read
// model. The runtime must outlive the index.
std::unique_ptr<app::ReminderIndex> make_reminder_index(const Runtime& runtime);

}  // namespace eventcrm::projections
