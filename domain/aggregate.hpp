// The shape every aggregate module exposes to the app layer: a descriptor struct with its
// state, event and command types, stream category and the pure functions over them.
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "domain/context.hpp"
#include "domain/error.hpp"

namespace eventcrm::domain {

template <class A>
concept Aggregate = requires(typename A::State& s, const typename A::Event& e,
                             const typename A::Command& c, const Context& ctx,
                             std::string_view sv) {
  { A::category } -> std::convertible_to<std::string_view>;
  A::apply(s, e);
  { A::decide(s, c, ctx) } -> std::same_as<Result<std::vector<typename A::Event>>>;
  { A::encode(e) } -> std::same_as<std::string>;
  { A::decode(sv, sv) } -> std::same_as<Result<typename A::Event>>;
  { A::type_of(e) } -> std::same_as<std::string_view>;
  { A::event_types() } -> std::same_as<std::vector<std::string_view>>;
  // Whether a conflicting concurrent write may be resolved by deciding again on fresh state.
  { A::retryable(c) } -> std::same_as<bool>;
};

// The stream of one record: "<category>-<id>".
inline std::string stream_name(std::string_view category, std::string_view id) {
  std::string s(category);
  s += '-';
  s += id;
  return s;
}

}  // namespace eventcrm::domain
