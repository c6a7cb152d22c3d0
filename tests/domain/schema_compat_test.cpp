// The published event schemas (domain/schemas/<type>.json) against the codecs as they are now:
// a change that would break a consumer fails here — a type disappearing, a property removed or
// retyped, a required property becoming optional — and so does a stale or missing file
// (regenerate with `eventcrm schemas --write domain/schemas`). Breaking changes take a new
// type version (….v2) instead.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "domain/json.hpp"
#include "domain/registry.hpp"

namespace eventcrm::domain {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string text(const json::Value* v) {
  return v == nullptr ? std::string() : v->text;
}

// Why `now` would break a consumer written against `published` (empty: it would not).
std::string breaks(const json::Value& published, const json::Value& now, const std::string& at) {
  if (text(published.find("type")) != text(now.find("type")))
    return at + ": type " + text(published.find("type")) + " became " + text(now.find("type"));
  if (text(published.find("format")) != text(now.find("format")))
    return at + ": format changed";
  if (text(published.find("pattern")) != text(now.find("pattern")))
    return at + ": pattern changed";
  if (const json::Value* items = published.find("items")) {
    const json::Value* now_items = now.find("items");
    if (now_items == nullptr)
      return at + ": items removed";
    if (auto why = breaks(*items, *now_items, at + "[]"); !why.empty())
      return why;
  }
  if (const json::Value* props = published.find("properties")) {
    const json::Value* now_props = now.find("properties");
    for (const auto& m : props->members) {
      const json::Value* p = now_props == nullptr ? nullptr : now_props->find(m.first);
      if (p == nullptr)
        return at + "." + m.first + ": removed";
      if (auto why = breaks(m.second, *p, at + "." + m.first); !why.empty())
        return why;
    }
  }
  std::set<std::string> required_now;
  if (const json::Value* r = now.find("required"))
    for (const auto& item : r->items)
      required_now.insert(item.text);
  if (const json::Value* r = published.find("required")) {
    for (const auto& item : r->items) {
      if (!required_now.count(item.text))
        return at + "." + item.text + ": was required, is optional now";
    }
  }
  return {};
}

TEST(EventSchemas, EveryTypeIsPublishedAndCompatible) {
  std::filesystem::path dir = EVENTCRM_SCHEMAS_DIR;
  std::set<std::string> known;
  for (const auto& t : event_types()) {
    known.insert(std::string(t.type) + ".json");
    std::string now_text = t.schema();
    auto now = json::parse(now_text);
    ASSERT_TRUE(now) << t.type;
    auto path = dir / (std::string(t.type) + ".json");
    if (!std::filesystem::exists(path)) {
      ADD_FAILURE() << t.type << " has no published schema: run `eventcrm schemas --write "
                    << "domain/schemas`";
      continue;
    }
    std::string file = read_file(path);
    auto published = json::parse(file);
    ASSERT_TRUE(published) << path << " is not valid JSON";
    std::string why = breaks(*published, *now, std::string(t.type));
    EXPECT_EQ(why, "") << "breaking change to " << t.type
                       << ": consumers of the published schema would break; make a new type "
                          "version instead";
    if (why.empty()) {
      EXPECT_EQ(file, now_text + "\n") << t.type << ": the published schema is stale; run "
                                       << "`eventcrm schemas --write domain/schemas`";
    }
  }
  // A published type that no longer exists breaks its consumers too.
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_TRUE(known.count(entry.path().filename().string()))
        << entry.path().filename() << " is published but the type is gone";
  }
}

TEST(EventSchemas, TheCheckCatchesBreakingChanges) {
  auto v1 =
      json::parse(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},)"
                  R"("required":["a","b"]})");
  auto added =
      json::parse(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"},)"
                  R"("c":{"type":"string"}},"required":["a","b","c"]})");
  auto removed =
      json::parse(R"({"type":"object","properties":{"a":{"type":"string"}},"required":["a"]})");
  auto retyped =
      json::parse(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},)"
                  R"("required":["a","b"]})");
  auto optional =
      json::parse(R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},)"
                  R"("required":["a"]})");
  EXPECT_EQ(breaks(*v1, *added, "t"), "");
  EXPECT_NE(breaks(*v1, *removed, "t"), "");
  EXPECT_NE(breaks(*v1, *retyped, "t"), "");
  EXPECT_NE(breaks(*v1, *optional, "t"), "");
}

}  // namespace
}  // namespace eventcrm::domain
