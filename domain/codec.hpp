// Generic JSON codecs for events (and snapshot states) that describe their fields with
//   template <class Self, class F> static void fields(Self& self, F&& f) { f("name", self.name); …
//   }
// Included by domain/ and projections/ .cpp files only; public headers stay free of JSON types.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "domain/error.hpp"
#include "domain/json.hpp"
#include "domain/money.hpp"
#include "domain/time.hpp"

namespace eventcrm::domain::codec {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// Decimal text for JSON: at least 2 fractional digits ("1250.00"), up to 4 when needed.
std::string decimal_text(Decimal d);

namespace detail {
struct Probe {
  template <class V>
  void operator()(std::string_view, V&) const {}
};
template <class T>
concept Described = requires(T& t) {
  T::fields(t, Probe{});
};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_variant : std::false_type {};
template <class... Ts>
struct is_variant<std::variant<Ts...>> : std::true_type {};
}  // namespace detail

template <class T>
void put(json::Writer& w, const T& v);

template <class T>
void put_fields(json::Writer& w, const T& v) {
  w.begin_object();
  T::fields(v, [&w](std::string_view key, const auto& field) {
    using F = std::decay_t<decltype(field)>;
    if constexpr (detail::is_optional<F>::value) {
      if (!field)
        return;  // absent optionals are left out
    }
    w.key(key);
    put(w, field);
  });
  w.end_object();
}

template <class T>
void put(json::Writer& w, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    w.string(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    w.boolean(v);
  } else if constexpr (std::is_integral_v<T>) {
    w.integer(static_cast<std::int64_t>(v));
  } else if constexpr (std::is_same_v<T, Decimal>) {
    w.string(decimal_text(v));
  } else if constexpr (std::is_same_v<T, Money>) {
    w.begin_object();
    w.key("amount");
    w.string(decimal_text(v.amount));
    w.key("currency");
    w.string(v.currency);
    w.end_object();
  } else if constexpr (std::is_same_v<T, Date> || std::is_same_v<T, Timestamp>) {
    w.string(v.to_string());
  } else if constexpr (detail::is_optional<T>::value) {
    if (v) {
      put(w, *v);
    } else {
      w.null();
    }
  } else if constexpr (detail::is_vector<T>::value) {
    w.begin_array();
    for (const auto& item : v)
      put(w, item);
    w.end_array();
  } else if constexpr (std::is_enum_v<T>) {
    w.string(to_string(v));  // found by argument-dependent lookup next to the enum
  } else {
    static_assert(detail::Described<T>, "field type has no JSON codec");
    put_fields(w, v);
  }
}

// Decoding: `path` names the field for error messages ("lines[2].quantity").
template <class T>
bool get(const json::Value& v, T& out, const std::string& path, std::string& error);

template <class T>
bool get_fields(const json::Value& v, T& out, const std::string& path, std::string& error) {
  if (v.kind != json::Value::Kind::object) {
    error = (path.empty() ? std::string("document") : path) + ": expected an object";
    return false;
  }
  bool ok = true;
  T::fields(out, [&](std::string_view key, auto& field) {
    if (!ok)
      return;
    using F = std::decay_t<decltype(field)>;
    std::string sub = path.empty() ? std::string(key) : path + "." + std::string(key);
    const json::Value* member = v.find(key);
    if (member == nullptr || member->kind == json::Value::Kind::null) {
      if constexpr (detail::is_optional<F>::value || detail::is_vector<F>::value) {
        field = F{};
      } else {
        error = sub + ": missing";
        ok = false;
      }
      return;
    }
    ok = get(*member, field, sub, error);
  });
  return ok;  // unknown members are ignored: later versions may add optional fields
}

template <class T>
bool get(const json::Value& v, T& out, const std::string& path, std::string& error) {
  using K = json::Value::Kind;
  auto bad = [&](const char* what) {
    error = path + ": " + what;
    return false;
  };
  if constexpr (std::is_same_v<T, std::string>) {
    if (v.kind != K::string)
      return bad("expected a string");
    out = v.text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (v.kind != K::boolean)
      return bad("expected true or false");
    out = v.boolean;
  } else if constexpr (std::is_integral_v<T>) {
    std::int64_t n;
    if (!v.as_int64(n))
      return bad("expected an integer");
    if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) {
      return bad("integer out of range");
    }
    out = static_cast<T>(n);
  } else if constexpr (std::is_same_v<T, Decimal>) {
    if (v.kind != K::string)
      return bad("expected a decimal string");
    auto d = Decimal::parse(v.text);
    if (!d)
      return bad("invalid decimal");
    out = *d;
  } else if constexpr (std::is_same_v<T, Money>) {
    if (v.kind != K::object)
      return bad("expected {\"amount\",\"currency\"}");
    const json::Value* amount = v.find("amount");
    const json::Value* currency = v.find("currency");
    if (amount == nullptr || currency == nullptr)
      return bad("expected {\"amount\",\"currency\"}");
    if (!get(*amount, out.amount, path + ".amount", error))
      return false;
    if (currency->kind != K::string || !valid_currency(currency->text)) {
      return bad("invalid currency");
    }
    out.currency = currency->text;
  } else if constexpr (std::is_same_v<T, Date> || std::is_same_v<T, Timestamp>) {
    if (v.kind != K::string)
      return bad("expected a string");
    auto parsed = T::parse(v.text);
    if (!parsed)
      return bad(std::is_same_v<T, Date> ? "expected YYYY-MM-DD" : "expected RFC 3339");
    out = *parsed;
  } else if constexpr (detail::is_optional<T>::value) {
    typename T::value_type inner{};
    if (!get(v, inner, path, error))
      return false;
    out = std::move(inner);
  } else if constexpr (detail::is_vector<T>::value) {
    if (v.kind != K::array)
      return bad("expected an array");
    out.clear();
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      typename T::value_type item{};
      if (!get(v.items[i], item, path + "[" + std::to_string(i) + "]", error))
        return false;
      out.push_back(std::move(item));
    }
  } else if constexpr (std::is_enum_v<T>) {
    if (v.kind != K::string || !from_string(v.text, out))
      return bad("unknown value");
  } else {
    static_assert(detail::Described<T>, "field type has no JSON codec");
    return get_fields(v, out, path, error);
  }
  return true;
}

// One described value to JSON text and back.
template <class T>
std::string encode(const T& v) {
  json::Writer w;
  put_fields(w, v);
  return w.take();
}

template <class T>
Result<T> decode(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc)
    return fail(errc::validation, "invalid JSON: " + doc.error());
  T out{};
  std::string error;
  if (!get_fields(*doc, out, "", error))
    return fail(errc::validation, error);
  return out;
}

// A variant of events, each alternative with `static constexpr std::string_view kType`.
template <class Variant>
std::string_view type_of(const Variant& e) {
  return std::visit(
      [](const auto& x) -> std::string_view { return std::decay_t<decltype(x)>::kType; }, e);
}

template <class Variant>
std::string encode_event(const Variant& e) {
  return std::visit([](const auto& x) { return encode(x); }, e);
}

template <class Variant, std::size_t I = 0>
Result<Variant> decode_event(std::string_view type, std::string_view text) {
  if constexpr (I == std::variant_size_v<Variant>) {
    return fail(errc::not_found, "unknown event type " + std::string(type));
  } else {
    using E = std::variant_alternative_t<I, Variant>;
    if (type == E::kType) {
      auto e = decode<E>(text);
      if (!e)
        return unexpected(std::move(e).error());
      return Variant{std::move(*e)};
    }
    return decode_event<Variant, I + 1>(type, text);
  }
}

template <class Variant>
std::vector<std::string_view> event_types() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return std::vector<std::string_view>{std::variant_alternative_t<I, Variant>::kType...};
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>{});
}

}  // namespace eventcrm::domain::codec
