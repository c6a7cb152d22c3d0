// What a decision may know besides state and command: the time, who acts, fresh ids and the
// settings that shape decisions. Filled by the app layer; tests fill it with fixed values.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/time.hpp"

namespace eventcrm::domain {

struct PipelineStage {
  std::string name;
  int probability = 0;  // default win probability in percent for an opportunity at this stage
};

// The ordered open stages of the sales pipeline; "won" (100 %) and "lost" (0 %) close it.
struct Pipeline {
  std::vector<PipelineStage> stages;

  // prospecting 10 → qualification 25 → proposal 50 → negotiation 75
  static Pipeline standard();
  const PipelineStage* find(std::string_view name) const;
  std::vector<std::string> names() const;
};

struct Context {
  Timestamp now;
  std::string actor;                     // the authenticated principal
  std::string id;                        // the id of the record the command is about
  std::function<std::string()> new_id;   // a fresh opaque id (UUID in production)
  bool assignment_notifications = true;  // settings: notifications.assignment_enabled
  Pipeline pipeline = Pipeline::standard();

  std::string next_id() const { return new_id ? new_id() : std::string(); }
};

}  // namespace eventcrm::domain
