// The usual collection read model: one record per stream of an aggregate's category, folded
// from that stream's own events into a Row (a struct described with `fields`, served as JSON by
// GET /v1/<collection>/<id>). A record's document changes only with its own stream, so its
// `version` (the stream version) is a valid ETag and If-Match value.
//
// Include from projections/*.cpp only: it brings in the domain's JSON codec.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/codec.hpp"
#include "domain/json.hpp"
#include "projections/held.hpp"
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
    // A stream's first event creates its record: nothing stored to read back.
    const bool fresh = e.stream_version == 0;
    if (holding_) {
      auto it = held_.find(id);
      if (it == held_.end()) {
        Held h{load(table, id, e, fresh), fresh, 0};
        it = held_.emplace(std::move(id), std::move(h)).first;
      }
      it->second.touched = e.position;
      fold(it->second.row, *event, e);
      return;
    }
    Row row = load(table, id, e, fresh);
    fold(row, *event, e);
    write(table, row, fresh);
  }

  void hold(bool on) override {
    holding_ = on;
    held_.clear();
  }
  void flush(Batch& batch, std::int64_t bytes) override {
    const std::uint64_t cutoff = flush_cutoff(touched_of(held_), cost().per_record(), bytes);
    CountingBatch counted(batch);
    records::Table table(counted, spec());
    const std::size_t written = write_out(
        held_, cutoff, [&](const std::string&, const Held& h) { write(table, h.row, h.fresh); });
    cost().learn(counted, written);
  }
  std::int64_t held_bytes() const override { return cost().of(held_.size()); }

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

 private:
  // A record as it stands before an event: read back, or new when its stream starts here.
  Row load(records::Table& table, const std::string& id, const store::RecordedEvent& e,
           bool fresh) {
    Row row{};
    if (auto doc = fresh ? std::nullopt : table.doc(id)) {
      auto parsed = domain::json::parse(*doc);
      std::string error;
      if (!parsed || !domain::codec::get_fields(*parsed, row, "", error))
        throw std::runtime_error("stored record " + id + " does not decode: " + error);
    } else {
      row.id = id;
      row.created_at = domain::Timestamp{e.time_ms};
    }
    return row;
  }
  void fold(Row& row, const typename A::Event& event, const store::RecordedEvent& e) {
    update(row, event, e);
    row.version = e.stream_version;
    row.updated_at = domain::Timestamp{e.time_ms};
  }
  // `fresh`: the record has no rows yet.
  void write(records::Table& table, const Row& row, bool fresh) const {
    domain::json::Writer w;
    domain::codec::put_fields(w, row);
    records::Record r;
    r.id = row.id;
    r.doc = w.take();
    r.facets = facets(row);
    r.sort_keys = sort_keys(row);
    table.put(r, fresh);
  }

  struct Held {
    Row row;
    bool fresh;             // the record's stream started while held: it has no rows to replace
    std::uint64_t touched;  // the position of its last event
  };
  // A held record: its row (strings beyond their inline buffers, hash node and bucket: roughly)
  // and its rows once flushed: the document, its index keys and index rows (~200 bytes each).
  HeldCost& cost() const {
    if (!cost_) {
      const auto rows = static_cast<std::int64_t>(records::rows_per_record(spec()));
      cost_.emplace(static_cast<std::int64_t>(sizeof(Held)) + 320, rows * 200);
    }
    return *cost_;
  }

  bool holding_ = false;
  std::unordered_map<std::string, Held> held_;
  mutable std::optional<HeldCost> cost_;
};

}  // namespace eventcrm::projections
