// Table-driven aggregate tests: given events, when a command, then events or an error.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::testing {

// The error a case expects; `allowed` / `fields` are checked when not empty.
struct Fails {
  domain::errc code;
  std::vector<std::string> allowed = {};
  std::vector<std::string> fields = {};
};

template <class A>
struct Case {
  std::string name;
  std::vector<typename A::Event> given;
  typename A::Command when;
  std::variant<std::vector<typename A::Event>, Fails> then;
};

// A fixed context: 2026-03-02T10:00:00Z, actor "u-ann", record id "r-1", ids "id-1", "id-2"…
inline domain::Context fixed_context(std::string id = "r-1") {
  domain::Context ctx;
  ctx.now = *domain::Timestamp::parse("2026-03-02T10:00:00Z");
  ctx.actor = "u-ann";
  ctx.id = std::move(id);
  auto counter = std::make_shared<int>(0);
  ctx.new_id = [counter] { return "id-" + std::to_string(++*counter); };
  return ctx;
}

template <class A>
std::string describe(const std::vector<typename A::Event>& events) {
  std::string out;
  for (const auto& e : events) {
    out += std::string(A::type_of(e)) + " " + A::encode(e) + "\n";
  }
  return out.empty() ? "(no events)" : out;
}

template <class A>
void run_case(const Case<A>& c, const domain::Context& shared_ctx = fixed_context()) {
  SCOPED_TRACE(c.name);
  domain::Context ctx = shared_ctx;  // fresh ids for every case
  auto counter = std::make_shared<int>(0);
  ctx.new_id = [counter] { return "id-" + std::to_string(++*counter); };
  typename A::State state{};
  for (const auto& e : c.given)
    A::apply(state, e);
  auto result = A::decide(state, c.when, ctx);
  if (const auto* expected = std::get_if<std::vector<typename A::Event>>(&c.then)) {
    ASSERT_TRUE(result) << "unexpected error: " << result.error().message;
    EXPECT_TRUE(*result == *expected) << "got:\n"
                                      << describe<A>(*result) << "expected:\n"
                                      << describe<A>(*expected);
    // Every decided event folds and survives its codec.
    for (const auto& e : *result) {
      A::apply(state, e);
      auto back = A::decode(A::type_of(e), A::encode(e));
      ASSERT_TRUE(back) << back.error().message;
      EXPECT_TRUE(*back == e) << A::encode(e);
    }
  } else {
    const auto& fails = std::get<Fails>(c.then);
    ASSERT_FALSE(result) << "expected an error, got:\n" << describe<A>(*result);
    EXPECT_EQ(result.error().code, fails.code) << result.error().message;
    if (!fails.allowed.empty()) {
      EXPECT_EQ(result.error().allowed, fails.allowed);
    }
    if (!fails.fields.empty()) {
      std::vector<std::string> got;
      for (const auto& f : result.error().fields)
        got.push_back(f.field);
      EXPECT_EQ(got, fails.fields);
    }
  }
}

template <class A>
void run_cases(const std::vector<Case<A>>& cases, const domain::Context& ctx = fixed_context()) {
  for (const auto& c : cases)
    run_case<A>(c, ctx);
}

inline domain::Money vnd(const char* amount) {
  return domain::Money{*domain::Decimal::parse(amount), "VND"};
}
inline domain::Date day(const char* text) {
  return *domain::Date::parse(text);
}
inline domain::Timestamp at(const char* text) {
  return *domain::Timestamp::parse(text);
}

}  // namespace eventcrm::testing
