// Collection read models: one JSON document per record (what GET /v1/<collection>/<id> serves)
// plus sorted index rows for the list queries (filters, sort, cursor pagination). A collection's
// projection decides what a record looks like; this file keeps its rows and answers the lists.
//
// Rows, inside the projection's own keyspace:
//   d/<id>                                   → the document (JSON object)
//   m/<id>                                   → the index keys written for it (to replace them)
//   i/<sort>\0<facet>=<value>\0<key>\0<id>\0 → the record's facets (for filtering while scanning)
// `<facet>=<value>` is `*=` for the unfiltered index; every sort key has one per indexed facet.
// `<sort>` is the sort key's name: a descending sort ("-name") reads the rows of "name" backward.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/money.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections::records {

// How a collection is listed.
struct Spec {
  // Sort orders offered, e.g. {"created_at", "-created_at", "name"} ("-": descending). The first
  // is the default.
  std::vector<std::string> sorts;
  // Facets with their own index (fast equality filters), most selective first.
  std::vector<std::string> indexed;
  // Facets searched by `q` (case-insensitive substring).
  std::vector<std::string> text;
};

using Facets = std::vector<std::pair<std::string, std::string>>;

// A record as its projection writes it.
struct Record {
  std::string id;
  std::string doc;  // the JSON object served for the record
  Facets facets;    // field → value, for filters (absent fields are left out)
  // sort name (without '-') → byte-sortable key; see the key helpers below.
  std::vector<std::pair<std::string, std::string>> sort_keys;
};

// Writes records through a projection's batch.
class Table {
 public:
  Table(Batch& batch, const Spec& spec) : batch_(batch), spec_(spec) {}
  std::optional<std::string> doc(std::string_view id);
  // Replaces the record's document and index rows. `fresh`: the record has never been written
  // (its stream's first event), so there are no old rows to look up and replace.
  void put(const Record& r, bool fresh = false);
  void remove(std::string_view id);

 private:
  Batch& batch_;
  const Spec& spec_;
};

// The rows a record takes at most: its document, the list of its index keys, and one index row
// per sort key and facet index (the unfiltered one included).
std::size_t rows_per_record(const Spec& spec);

// Byte-sortable keys.
std::string key_text(std::string_view s);  // case-folded ASCII, as is otherwise
std::string key_decimal(domain::Decimal d);
std::string key_int(std::int64_t v);

struct Range {
  std::string facet;
  std::string from;  // inclusive; empty: open
  std::string to;    // inclusive; empty: open
};

struct ListQuery {
  std::string sort;                                         // one of Spec::sorts; empty: the first
  std::vector<std::pair<std::string, std::string>> equals;  // facet == value
  std::vector<Range> ranges;                                // facet within [from, to]
  std::string text;                                         // `q`
  std::string cursor;                                       // from a previous page
  std::size_t limit = 50;
  std::size_t scan_budget = 50'000;  // index rows looked at per page at most
};

struct ListPage {
  std::vector<std::string> docs;
  std::string next_cursor;  // empty: no more
};

enum class ListError { bad_sort, bad_cursor };

// One page of a collection, in the asked order. When the scan budget runs out before the page is
// full, the page is returned short with a cursor to continue from.
eventcrm::Result<ListPage, ListError> list(const View& view, const Spec& spec, const ListQuery& q);

// A record as it was at a past point: the collection's projection applied in memory to the
// record's own events (up to that point), not read from the current rows. nullopt when the
// events produce no document for `id`.
std::optional<std::string> render(Projection& projection,
                                  const std::vector<store::RecordedEvent>& events,
                                  std::string_view id);

// Every record's document in id order (reports that aggregate over a collection).
void each(const View& view,
          const std::function<bool(std::string_view id, std::string_view doc)>& fn);

}  // namespace eventcrm::projections::records
