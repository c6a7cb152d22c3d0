// The sales pipeline read model (R-SALES 4): count, unweighted (Σ amount) and weighted
// (Σ amount × probability / 100) sums of the OPEN opportunities by stage, owner and close month,
// kept per currency so the report sums only the reporting currency and shows the rest apart.
// Serves GET /v1/reports/pipeline; figures are updated as opportunities change, never computed by
// scanning the log per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace eventcrm::projections {

inline constexpr std::string_view kPipeline = "pipeline";
std::unique_ptr<Projection> make_pipeline();

enum class PipelineGroupBy { stage, owner, close_month };

struct PipelineSums {
  std::uint64_t count = 0;
  std::string unweighted = "0.00";  // decimal text in the group's currency
  std::string weighted = "0.00";
};

struct PipelineGroup {
  std::string key;  // the stage, the owner id or the close month (YYYY-MM)
  PipelineSums sums;
};

struct PipelineCurrencySums {
  std::string currency;
  PipelineSums sums;
};

struct PipelineReport {
  std::string currency;  // what the groups and the total are summed in
  std::vector<PipelineGroup> groups;
  PipelineSums total;
  // Open opportunities in other currencies, per currency (never converted, never summed in).
  std::vector<PipelineCurrencySums> excluded;
};

// The reporting currency as the settings said when the view was taken (default VND).
std::string pipeline_reporting_currency(const View& view);

// Which owners' opportunities a report covers (record-level reach); empty: every opportunity,
// those without an owner included. Called with "" for opportunities without an owner.
using OwnerFilter = std::function<bool(std::string_view owner_id)>;

// The report from a view of the pipeline projection. Groups come in `leading` order first (each
// listed even when empty: the pipeline's stages), then the other non-empty groups by key. Every
// figure (groups, total, excluded) covers only the opportunities whose owner `owners` accepts.
PipelineReport pipeline_report(const View& view, PipelineGroupBy by, std::string_view currency,
                               const std::vector<std::string>& leading = {},
                               const OwnerFilter& owners = nullptr);

}  // namespace eventcrm::projections
