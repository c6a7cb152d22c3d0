// Collection read models: documents and their index rows; see records.hpp.
#include "projections/records.hpp"

#include <algorithm>
#include <cstdint>
#include <map>

namespace eventcrm::projections::records {
namespace {

void put_part(std::string& out, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  out += s;
}

bool get_part(std::string_view& in, std::string_view& out) {
  if (in.size() < 4)
    return false;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(4);
  if (in.size() < n)
    return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

std::string clean(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), '\0', '\1');
  return out;
}

std::string index_prefix(std::string_view sort, std::string_view facet, std::string_view value) {
  std::string k = "i/";
  k += sort;
  k.push_back('\0');
  k += facet;
  k.push_back('=');
  k += clean(value);
  k.push_back('\0');
  return k;
}

// The position of a record within one sort: its sort key, then its id to break ties. A sort and
// its descending form ("-name") share these rows: the descending one reads them backward, so it
// is the exact reverse of the ascending one, ties included (record ids are time-ordered:
// "-created_at" lists records created in the same millisecond newest first too).
std::string sort_part(std::string_view key, std::string_view id) {
  std::string k = clean(key);
  k.push_back('\0');
  k += clean(id);
  k.push_back('\0');
  return k;
}

// The index a sort reads: "-name" reads the rows of "name", backward.
std::string_view sort_index(std::string_view sort) {
  return !sort.empty() && sort[0] == '-' ? sort.substr(1) : sort;
}

// The indexes a collection keeps: one per sort key, whichever directions are offered.
std::vector<std::string_view> sort_indexes(const Spec& spec) {
  std::vector<std::string_view> indexes;
  for (const std::string& sort : spec.sorts) {
    const std::string_view name = sort_index(sort);
    if (std::find(indexes.begin(), indexes.end(), name) == indexes.end())
      indexes.push_back(name);
  }
  return indexes;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string to_hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool from_hex(std::string_view s, std::string& out) {
  if (s.size() % 2 != 0)
    return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

}  // namespace

std::string key_text(std::string_view s) {
  return ascii_lower(s);
}

std::string key_int(std::int64_t v) {
  // Offset binary, big-endian, as hex: orders like the integers.
  auto u = static_cast<std::uint64_t>(v) ^ (std::uint64_t{1} << 63);
  std::string raw;
  for (int i = 7; i >= 0; --i)
    raw.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  return to_hex(raw);
}

std::string key_decimal(domain::Decimal d) {
  return key_int(d.units());
}

std::size_t rows_per_record(const Spec& spec) {
  return sort_indexes(spec).size() * (1 + spec.indexed.size()) + 2;
}

std::optional<std::string> Table::doc(std::string_view id) {
  return batch_.get("d/" + std::string(id));
}

void Table::remove(std::string_view id) {
  std::string meta_key = "m/" + std::string(id);
  if (auto old = batch_.get(meta_key)) {
    std::string_view in = *old;
    std::string_view k;
    while (get_part(in, k))
      batch_.del(k);
  }
  batch_.del(meta_key);
  batch_.del("d/" + std::string(id));
}

void Table::put(const Record& r, bool fresh) {
  std::string value;
  put_part(value, r.id);
  for (const auto& [name, v] : r.facets) {
    put_part(value, name);
    put_part(value, v);
  }
  std::vector<std::string> keys;
  for (const std::string_view name : sort_indexes(spec_)) {
    std::string_view key;
    for (const auto& [n, k] : r.sort_keys) {
      if (n == name)
        key = k;
    }
    std::string part = sort_part(key, r.id);
    keys.push_back(index_prefix(name, "*", "") + part);
    for (const std::string& facet : spec_.indexed) {
      for (const auto& [f, v] : r.facets) {
        if (f == facet)
          keys.push_back(index_prefix(name, facet, v) + part);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  std::string meta_key = "m/" + r.id;
  std::string meta;
  for (const std::string& k : keys)
    put_part(meta, k);
  // Most events change neither the record's sort keys nor its facets: its index rows stay as
  // they are, and writing them again (a dozen or more per record) was most of a rebuild's cost.
  const std::optional<std::string> old = fresh ? std::nullopt : batch_.get(meta_key);
  std::vector<std::string_view> old_keys;  // sorted: written from the sorted `keys`
  if (old) {
    std::string_view in = *old;
    std::string_view k;
    while (get_part(in, k)) {
      old_keys.push_back(k);
      if (!std::binary_search(keys.begin(), keys.end(), k))
        batch_.del(k);
    }
  }
  // Every index row of a record holds the same value, so one of them tells whether they are due.
  bool same_value = false;
  if (!old_keys.empty()) {
    const auto current = batch_.get(old_keys.front());
    same_value = current && *current == value;
  }
  if (fresh) {
    for (const std::string& k : keys)
      batch_.put_new(k, value);
    batch_.put_new(meta_key, meta);
    batch_.put_new("d/" + r.id, r.doc);
    return;
  }
  for (const std::string& k : keys) {
    if (!same_value || !std::binary_search(old_keys.begin(), old_keys.end(), std::string_view(k)))
      batch_.put(k, value);
  }
  if (!old || *old != meta)
    batch_.put(meta_key, meta);
  batch_.put("d/" + r.id, r.doc);
}

eventcrm::Result<ListPage, ListError> list(const View& view, const Spec& spec, const ListQuery& q) {
  std::string sort = q.sort.empty() ? spec.sorts.front() : q.sort;
  if (std::find(spec.sorts.begin(), spec.sorts.end(), sort) == spec.sorts.end())
    return unexpected(ListError::bad_sort);
  const std::string_view index = sort_index(sort);
  const bool backward = index.size() != sort.size();
  std::string prefix = index_prefix(index, "*", "");
  for (const std::string& facet : spec.indexed) {
    auto it = std::find_if(q.equals.begin(), q.equals.end(),
                           [&](const auto& e) { return e.first == facet; });
    if (it != q.equals.end()) {
      prefix = index_prefix(index, facet, it->second);
      break;
    }
  }
  // The index rows are [prefix, prefix with its last byte (a NUL) raised); a cursor is the key of
  // the last row looked at, minus the prefix: the next page starts just past it.
  std::string from = prefix;
  std::string to = prefix;
  to.back() = '\1';
  if (!q.cursor.empty()) {
    std::string after;
    if (!from_hex(q.cursor, after) || after.empty())
      return unexpected(ListError::bad_cursor);
    if (backward) {
      to = prefix + after;  // exclusive
    } else {
      from += after;
      from.push_back('\0');  // the first key after it
    }
  }
  std::string needle = ascii_lower(q.text);

  ListPage page;
  std::size_t scanned = 0;
  std::string last;  // the remainder of the last key looked at
  bool more = false;
  const auto visit = [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    // Once the page is full, the scan only looks for one more match (is there a next page?).
    const bool full = page.docs.size() >= q.limit;
    if (++scanned > q.scan_budget) {
      more = true;  // continue from the last row looked at
      return false;
    }
    std::string_view in = value;
    std::string_view id;
    if (!get_part(in, id))
      return true;
    Facets facets;
    std::string_view name, v;
    while (get_part(in, name) && get_part(in, v))
      facets.emplace_back(std::string(name), std::string(v));
    auto facet = [&](std::string_view n) -> const std::string* {
      for (const auto& [f, val] : facets) {
        if (f == n)
          return &val;
      }
      return nullptr;
    };
    bool match = true;
    for (const auto& [f, want] : q.equals) {
      const std::string* got = facet(f);
      match = match && got != nullptr && *got == want;
    }
    for (const Range& r : q.ranges) {
      const std::string* got = facet(r.facet);
      match = match && got != nullptr && (r.from.empty() || *got >= r.from) &&
              (r.to.empty() || *got <= r.to);
    }
    if (match && !needle.empty()) {
      bool found = false;
      for (const std::string& t : spec.text) {
        const std::string* got = facet(t);
        found = found || (got != nullptr && ascii_lower(*got).find(needle) != std::string::npos);
      }
      match = found;
    }
    if (!match) {
      if (!full)
        last = std::string(rest);
      return true;
    }
    if (full) {
      more = true;
      return false;
    }
    if (auto doc = view.get("d/" + std::string(id))) {
      page.docs.push_back(std::move(*doc));
    }
    last = std::string(rest);
    return true;
  };
  if (backward)
    view.scan_back(from, to, visit);
  else
    view.scan(from, to, visit);
  if (more && !last.empty())
    page.next_cursor = to_hex(last);
  return page;
}

namespace {
// Rows kept in memory for one rendering.
class MemoryBatch final : public Batch {
 public:
  void put(std::string_view key, std::string_view value) override {
    rows_[std::string(key)] = std::string(value);
  }
  void del(std::string_view key) override { rows_.erase(std::string(key)); }
  std::optional<std::string> get(std::string_view key) override {
    auto it = rows_.find(std::string(key));
    if (it == rows_.end())
      return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string> rows_;
};
}  // namespace

std::optional<std::string> render(Projection& projection,
                                  const std::vector<store::RecordedEvent>& events,
                                  std::string_view id) {
  MemoryBatch batch;
  store::Filter filter = projection.filter();
  for (const store::RecordedEvent& e : events) {
    if (filter.empty() || filter.matches(e))
      projection.apply(e, batch);
  }
  return batch.get("d/" + std::string(id));
}

void each(const View& view,
          const std::function<bool(std::string_view id, std::string_view doc)>& fn) {
  view.scan("d/", "d0",
            [&](std::string_view key, std::string_view value) { return fn(key.substr(2), value); });
}

}  // namespace eventcrm::projections::records
