// JSON Schema (2020-12) of an event payload, generated from the same `fields` description its
// codec uses, so the published schema cannot drift from what is written. Included by
// domain/registry.cpp only.
#pragma once

#include <string>
#include <type_traits>

#include "domain/codec.hpp"

namespace eventcrm::domain::schema {

template <class T>
void describe(json::Writer& w);

// The members of an object schema ("type", "properties", "required"), into an open object.
template <class T>
void describe_members(json::Writer& w) {
  w.key("type");
  w.string("object");
  w.key("properties");
  w.begin_object();
  T probe{};
  T::fields(probe, [&w](std::string_view key, const auto& field) {
    using F = std::decay_t<decltype(field)>;
    w.key(key);
    describe<F>(w);
  });
  w.end_object();
  w.key("required");
  w.begin_array();
  T::fields(probe, [&w](std::string_view key, const auto& field) {
    using F = std::decay_t<decltype(field)>;
    if constexpr (!codec::detail::is_optional<F>::value && !codec::detail::is_vector<F>::value)
      w.string(key);
  });
  w.end_array();
}

template <class T>
void describe_object(json::Writer& w) {
  w.begin_object();
  describe_members<T>(w);
  w.end_object();
}

template <class T>
void describe(json::Writer& w) {
  auto simple = [&w](const char* type, const char* format = nullptr,
                     const char* pattern = nullptr) {
    w.begin_object();
    w.key("type");
    w.string(type);
    if (format != nullptr) {
      w.key("format");
      w.string(format);
    }
    if (pattern != nullptr) {
      w.key("pattern");
      w.string(pattern);
    }
    w.end_object();
  };
  if constexpr (std::is_same_v<T, std::string> || std::is_enum_v<T>) {
    simple("string");
  } else if constexpr (std::is_same_v<T, bool>) {
    simple("boolean");
  } else if constexpr (std::is_integral_v<T>) {
    simple("integer");
  } else if constexpr (std::is_same_v<T, Decimal>) {
    simple("string", nullptr, "^-?[0-9]+\\.[0-9]{2,4}$");
  } else if constexpr (std::is_same_v<T, Money>) {
    w.begin_object();
    w.key("type");
    w.string("object");
    w.key("properties");
    w.begin_object();
    w.key("amount");
    describe<Decimal>(w);
    w.key("currency");
    simple("string", nullptr, "^[A-Z]{3}$");
    w.end_object();
    w.key("required");
    w.begin_array();
    w.string("amount");
    w.string("currency");
    w.end_array();
    w.end_object();
  } else if constexpr (std::is_same_v<T, Date>) {
    simple("string", "date");
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    simple("string", "date-time");
  } else if constexpr (codec::detail::is_optional<T>::value) {
    describe<typename T::value_type>(w);  // absent when unset, never null
  } else if constexpr (codec::detail::is_vector<T>::value) {
    w.begin_object();
    w.key("type");
    w.string("array");
    w.key("items");
    describe<typename T::value_type>(w);
    w.end_object();
  } else {
    static_assert(codec::detail::Described<T>, "field type has no schema");
    describe_object<T>(w);
  }
}

// The published document for one event type.
template <class T>
std::string document() {
  json::Writer w;
  w.begin_object();
  w.key("$schema");
  w.string("https://json-schema.org/draft/2020-12/schema");
  w.key("$id");
  w.string("https://eventcrm.dev/schemas/events/" + std::string(T::kType) + ".json");
  w.key("title");
  w.string(T::kType);
  w.key("description");
  w.string("The data of a " + std::string(T::kType) +
           " event (CloudEvents `data`). Properties may be added within a version; none is "
           "removed, retyped or made optional: that takes a new version.");
  describe_members<T>(w);
  w.end_object();
  return w.take();
}

}  // namespace eventcrm::domain::schema
