// A small JSON-speaking client over the harness for the collection tests: starts the real
// server, sends commands and queries, and reads fields of the answers with the API's own
// strict decoder.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/json.hpp"
#include "harness.hpp"

namespace eventcrm::test {

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  api::json::Value json;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  // A top-level string or number member as text ("" when absent).
  std::string str(std::string_view key) const { return text_of(json, key); }
  std::int64_t num(std::string_view key) const {
    const api::json::Value* v = json.find(key);
    std::int64_t n = -1;
    if (v != nullptr)
      v->as_int64(n);
    return n;
  }
  static std::string text_of(const api::json::Value& v, std::string_view key) {
    const api::json::Value* m = v.find(key);
    if (m == nullptr)
      return {};
    if (m->kind == api::json::Value::Kind::null)
      return "null";
    return m->text;
  }
  const api::json::Value& items() const {
    static const api::json::Value none;
    const api::json::Value* v = json.find("items");
    return v != nullptr ? *v : none;
  }
};

// Reading members of JSON answers: a missing member reads as null, "" or -1.
inline const api::json::Value& member(const api::json::Value& v, std::string_view key) {
  static const api::json::Value none;
  const api::json::Value* m = v.find(key);
  return m != nullptr ? *m : none;
}
inline std::string text(const api::json::Value& v, std::string_view key) {
  return Reply::text_of(v, key);
}
inline std::int64_t number(const api::json::Value& v, std::string_view key) {
  std::int64_t n = -1;
  member(v, key).as_int64(n);
  return n;
}
// The "amount" of a money member ({"amount", "currency"}).
inline std::string amount(const api::json::Value& v, std::string_view key) {
  return text(member(v, key), "amount");
}
// A whole amount as the API writes money with two decimals.
inline std::string money_text(std::int64_t whole) {
  return std::to_string(whole) + ".00";
}

class CrmClient {
 public:
  explicit CrmClient(int port) : port_(port) {}

  Reply send(const std::string& method, const std::string& target, const std::string& body = {},
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!body.empty() || method == "POST" || method == "PATCH")
      headers.emplace_back("Content-Type", "application/json");
    // Read-your-writes, as a web frontend does: a query waits until the read models have
    // applied this client's last write, unless the test names a position itself.
    bool names_position = target.find("min_position=") != std::string::npos;
    for (const auto& [k, v] : headers)
      names_position = names_position || k == "X-Min-Position";
    if (read_your_writes && method == "GET" && !names_position && seen_position > 0)
      headers.emplace_back("X-Min-Position", std::to_string(seen_position));
    auto r = http(port_, method, target, body, std::move(headers));
    Reply out;
    if (!r) {
      ADD_FAILURE() << method << " " << target << ": no response";
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
    if (!r->body.empty()) {
      auto parsed = api::json::decode(r->body);
      if (parsed)
        out.json = std::move(*parsed);
    }
    if (method != "GET" && out.status >= 200 && out.status < 300)
      seen_position = std::max(seen_position, out.num("position"));
    return out;
  }
  Reply post(const std::string& target, const std::string& body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return send("POST", target, body, std::move(headers));
  }
  Reply get(const std::string& target, std::vector<std::pair<std::string, std::string>> h = {}) {
    return send("GET", target, {}, std::move(h));
  }
  // Creates a record and returns its id (fails the test otherwise).
  std::string create(const std::string& collection, const std::string& body) {
    Reply r = post("/v1/" + collection, body);
    EXPECT_EQ(r.status, 201) << collection << ": " << r.body;
    last_position = r.num("position");
    return r.str("id");
  }

  // The "id" of every item of a paged list (`url` has a query already), following next_cursor.
  std::set<std::string> all_ids(const std::string& url,
                                std::vector<std::pair<std::string, std::string>> headers = {},
                                int max_pages = 50) {
    std::set<std::string> out;
    std::string cursor;
    for (int page = 0; page < max_pages; ++page) {
      Reply r = get(url + "&limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), headers);
      EXPECT_EQ(r.status, 200) << url << " → " << r.body;
      for (const auto& item : r.items().items)
        out.insert(Reply::text_of(item, "id"));
      cursor = r.str("next_cursor");
      if (cursor.empty() || cursor == "null")
        break;
    }
    return out;
  }

  std::int64_t last_position = 0;
  // The highest log position this client's writes reported; GETs wait for it (see send()).
  std::int64_t seen_position = 0;
  bool read_your_writes = true;

 private:
  int port_;
};

}  // namespace eventcrm::test
