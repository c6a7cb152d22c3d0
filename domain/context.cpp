// The default sales pipeline.
#include "domain/context.hpp"

namespace eventcrm::domain {

Pipeline Pipeline::standard() {
  return Pipeline{
      {{"prospecting", 10}, {"qualification", 25}, {"proposal", 50}, {"negotiation", 75}}};
}

const PipelineStage* Pipeline::find(std::string_view name) const {
  for (const auto& s : stages) {
    if (s.name == name)
      return &s;
  }
  return nullptr;
}

std::vector<std::string> Pipeline::names() const {
  std::vector<std::string> out;
  for (const auto& s : stages)
    out.push_back(s.name);
  return out;
}

}  // namespace eventcrm::domain
