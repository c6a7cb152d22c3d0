// The strict JSON decoding layer: everything a stranger might send is rejected clearly.
#include <gtest/gtest.h>

#include "api/json.hpp"

namespace eventcrm::api {
namespace {

TEST(JsonDecode, AcceptsAndRoundTripsAValidDocument) {
  auto v = json::decode(R"({"a": [1, -2, 3.5, true, null, "x\"\u00e9"], "b": {"c": {}}})");
  ASSERT_TRUE(v);
  EXPECT_EQ(json::to_string(*v), R"({"a":[1,-2,3.5,true,null,"x\"é"],"b":{"c":{}}})");
  std::int64_t n = 0;
  EXPECT_TRUE(v->find("a")->items[1].as_int64(n));
  EXPECT_EQ(n, -2);
  EXPECT_FALSE(v->find("a")->items[2].as_int64(n));
}

struct BadCase {
  const char* name;
  std::string body;
};

class JsonRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(JsonRejects, WithAMessage) {
  auto v = json::decode(GetParam().body);
  ASSERT_FALSE(v) << GetParam().name;
  EXPECT_FALSE(v.error().message.empty());
}

std::string deep(int n) {
  return std::string(n, '[') + std::string(n, ']');
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonRejects,
    ::testing::Values(BadCase{"empty", ""}, BadCase{"syntax", "{\"a\":}"},
                      BadCase{"trailing", "{} x"}, BadCase{"two documents", "{}{}"},
                      BadCase{"duplicate keys", R"({"a":1,"a":2})"},
                      BadCase{"nested duplicate", R"({"x":{"b":1,"c":2,"b":3}})"},
                      BadCase{"invalid utf8", std::string("{\"a\":\"\xff\xfe\"}")},
                      BadCase{"overlong utf8", std::string("{\"a\":\"\xc0\xaf\"}")},
                      BadCase{"too deep", deep(40)}, BadCase{"huge exponent", "{\"a\":1e999}"},
                      BadCase{"huge integer", "{\"a\":123456789012345678901234567890}"},
                      BadCase{"control char", std::string("{\"a\":\"\x01\"}")},
                      BadCase{"bad escape", R"({"a":"\q"})"}, BadCase{"unterminated", R"({"a":"b)"},
                      BadCase{"nan", "{\"a\":NaN}"}, BadCase{"single quotes", "{'a':1}"}),
    [](const ::testing::TestParamInfo<BadCase>& param_info) {
      std::string n = param_info.param.name;
      for (auto& c : n)
        if (!isalnum(static_cast<unsigned char>(c)))
          c = '_';
      return n;
    });

TEST(JsonDecode, DepthAtTheCapIsAccepted) {
  EXPECT_TRUE(json::decode(deep(30)));
}

TEST(JsonDecode, EscapesControlCharactersOnOutput) {
  std::string out;
  json::write_string(out, std::string("a\n\x01\"\\", 5));
  EXPECT_EQ(out, R"("a\n\u0001\"\\")");
}

}  // namespace
}  // namespace eventcrm::api
