// The usual collection read model: one record per stream of an aggregate's category, folded
// from that stream's own events into a Row (a struct described with `fields`, served as JSON by
// GET /v1/<collection>/<id>). A record's document changes only with its own stream, so its
// `version` (the stream version) is a valid ETag and If-Match value.
//
// Include from projections/*.cpp only: it brings in the domain's JSON codec.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "domain/codec.hpp"
#include "domain/json.hpp"
#include "projections/projection.hpp"
#include "projections/records.hpp"

namespace eventcrm::projections {

// Row needs: std::string id; std::int64_t version; domain::Timestamp created_at, updated_at;
// and a `fields` description covering what is served.
template <class A, class Row>
class RecordProjection : public Projection {
 public:
  store::Filter filter() const override { return {{}, {std::string(A::category)}}; }

  void apply(const store::RecordedEvent& e, Batch& batch) override {
    auto event = A::decode(e.type, e.data);
    if (!event) {
      throw std::runtime_error("event " + e.id + " (" + e.type +
                               ") does not decode: " + event.error().message);
    }
    records::Table table(batch, spec());
    std::string id = e.stream.substr(A::category.size() + 1);
    Row row{};
    // A stream's first event creates its record: nothing stored to read back.
    const bool fresh = e.stream_version == 0;
    if (auto doc = fresh ? std::nullopt : table.doc(id)) {
      auto parsed = domain::json::parse(*doc);
      std::string error;
      if (!parsed || !domain::codec::get_fields(*parsed, row, "", error))
        throw std::runtime_error("stored record " + id + " does not decode: " + error);
    } else {
      row.id = id;
      row.created_at = domain::Timestamp{e.time_ms};
    }
    update(row, *event, e);
    row.version = e.stream_version;
    row.updated_at = domain::Timestamp{e.time_ms};
    domain::json::Writer w;
    domain::codec::put_fields(w, row);
    records::Record r;
    r.id = id;
    r.doc = w.take();
    r.facets = facets(row);
    r.sort_keys = sort_keys(row);
    table.put(r, fresh);
  }

  virtual const records::Spec& spec() const = 0;

 protected:
  // Applies one of the record's own events to its row.
  virtual void update(Row& row, const typename A::Event& event,
                      const store::RecordedEvent& recorded) = 0;
  // Filterable values (left out when absent) and sort keys of a row.
  virtual records::Facets facets(const Row& row) const = 0;
  virtual std::vector<std::pair<std::string, std::string>> sort_keys(const Row& row) const {
    return {{"created_at", row.created_at.to_string()}, {"updated_at", row.updated_at.to_string()}};
  }
};

}  // namespace eventcrm::projections
