// Audit exports with a manifest an auditor can check offline.
#include "projections/export.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "eventstore/cloudevents.hpp"
#include "projections/customer_history.hpp"

namespace eventcrm::projections {

namespace {

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos)
    return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"')
      out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

// Writes the export file while hashing what it writes.
class HashedFile {
 public:
  bool open(const std::string& path) {
    f_ = std::fopen(path.c_str(), "wb");
    ctx_ = EVP_MD_CTX_new();
    return f_ && ctx_ && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) == 1;
  }
  ~HashedFile() {
    if (f_)
      std::fclose(f_);
    if (ctx_)
      EVP_MD_CTX_free(ctx_);
  }
  HashedFile() = default;
  HashedFile(const HashedFile&) = delete;
  HashedFile& operator=(const HashedFile&) = delete;
  bool write(std::string_view s) {
    return std::fwrite(s.data(), 1, s.size(), f_) == s.size() &&
           EVP_DigestUpdate(ctx_, s.data(), s.size()) == 1;
  }
  // Flushes to disk and returns the hex digest (empty on failure).
  std::string finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const bool ok =
        std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0 && EVP_DigestFinal_ex(ctx_, md, &n) == 1;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    return ok && closed ? hex(md, n) : std::string();
  }

 private:
  std::FILE* f_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
};

Unexpected<Error> io(std::string message) {
  return unexpected(Error{errc::io_error, std::move(message)});
}

}  // namespace

std::string csv_line(const store::RecordedEvent& e) {
  std::string line = std::to_string(e.position);
  const std::string time = store::format_rfc3339_ms(e.time_ms);
  for (std::string_view f : {std::string_view(time), std::string_view(e.type),
                             std::string_view(e.stream), std::string_view(e.metadata.actor),
                             std::string_view(e.metadata.reason), std::string_view(e.data)}) {
    line.push_back(',');
    line += csv_field(f);
  }
  line += "\r\n";
  return line;
}

Result<ExportManifest> export_events(
    store::EventStore& store, const Runtime* runtime, const ExportOptions& options,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  ExportManifest m;
  m.log_head = store.head();
  m.format = options.format == ExportFormat::csv ? "csv" : "ndjson";
  m.file = "events." + m.format;
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec)
    return io("cannot create " + options.out_dir + ": " + ec.message());
  HashedFile file;
  const std::string path = (std::filesystem::path(options.out_dir) / m.file).string();
  if (!file.open(path))
    return io("cannot write " + path);
  if (options.format == ExportFormat::csv &&
      !file.write("position,time,type,stream,actor,reason,data\r\n")) {
    return io("cannot write " + path);
  }

  std::string line;
  auto emit = [&](const store::RecordedEvent& e) -> bool {
    line.clear();
    if (options.format == ExportFormat::csv) {
      line = csv_line(e);
    } else {
      store::append_cloudevent_json(line, e);
      line.push_back('\n');
    }
    if (m.count == 0)
      m.first_position = e.position;
    m.last_position = e.position;
    m.last_hash = store::to_hex(e.hash);
    ++m.count;
    return file.write(line);
  };

  if (!options.account_id.empty()) {
    if (!runtime)
      return unexpected(Error{errc::not_ready, "an account export needs the runtime"});
    auto view = runtime->view(kCustomerHistory);
    if (!view)
      return unexpected(std::move(view).error());
    HistoryQuery q;
    q.account_id = options.account_id;
    q.limit = kHistoryMaxLimit;
    q.include_data = false;
    const std::uint64_t total = (*view)->position();
    for (;;) {
      auto page = history(**view, store, q);
      if (!page)
        return unexpected(std::move(page).error());
      for (const auto& item : page->items) {
        auto e = store.get_at(item.position);
        if (!e)
          return io("cannot read position " + std::to_string(item.position));
        if (!emit(*e))
          return io("cannot write " + path);
      }
      if (progress)
        progress(m.last_position, total);
      if (!page->next_cursor)
        break;
      q.after = *page->next_cursor;
    }
  } else {
    const std::uint64_t to = options.to == 0 ? m.log_head : std::min(options.to, m.log_head);
    const std::uint64_t from = std::max<std::uint64_t>(options.from, 1);
    store::Hash prev{};
    if (from > 1 && from <= to) {
      auto before = store.get_at(from - 1);
      if (!before)
        return io("cannot read position " + std::to_string(from - 1));
      prev = before->hash;
    }
    m.previous_hash = store::to_hex(prev);
    std::uint64_t after = from - 1;
    while (after < to) {
      auto page = store.read_all(after, std::min<std::uint64_t>(1000, to - after));
      if (!page)
        return io("cannot read the log: " + page.error().message);
      if (page->events.empty())
        break;
      for (const auto& e : page->events) {
        if (e.position > to)
          break;
        if (!emit(e))
          return io("cannot write " + path);
      }
      after = page->events.back().position;
      if (progress)
        progress(after - from + 1, to - from + 1);
    }
  }
  m.file_sha256 = file.finish();
  if (m.file_sha256.empty())
    return io("cannot finish " + path);

  std::string& j = m.json;
  j = "{\n  \"format\": ";
  store::append_json_string(j, m.format);
  j += ",\n  \"file\": ";
  store::append_json_string(j, m.file);
  j += ",\n  \"selection\": ";
  if (!options.account_id.empty()) {
    j += "{\"account_id\": ";
    store::append_json_string(j, options.account_id);
    j += "}";
  } else {
    j += "{\"from\": " + std::to_string(std::max<std::uint64_t>(options.from, 1)) +
         ", \"to\": " + std::to_string(options.to == 0 ? m.log_head : options.to) + "}";
  }
  j += ",\n  \"count\": " + std::to_string(m.count);
  j += ",\n  \"first_position\": " + std::to_string(m.first_position);
  j += ",\n  \"last_position\": " + std::to_string(m.last_position);
  j += ",\n  \"last_event_hash\": ";
  store::append_json_string(j, m.last_hash);
  if (options.account_id.empty()) {
    j += ",\n  \"previous_hash\": ";
    store::append_json_string(j, m.previous_hash);
  }
  j += ",\n  \"file_sha256\": ";
  store::append_json_string(j, m.file_sha256);
  j += ",\n  \"log_head\": " + std::to_string(m.log_head);
  j += ",\n  \"hash_algorithm\": \"sha256(previous_hash || canonical event bytes)\"\n}\n";
  const std::string manifest = (std::filesystem::path(options.out_dir) / "manifest.json").string();
  std::FILE* f = std::fopen(manifest.c_str(), "wb");
  if (!f)
    return io("cannot write " + manifest);
  const bool ok = std::fwrite(j.data(), 1, j.size(), f) == j.size() && std::fflush(f) == 0 &&
                  ::fsync(::fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok)
    return io("cannot write " + manifest);
  return m;
}

}  // namespace eventcrm::projections
