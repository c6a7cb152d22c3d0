// Contracts with a customer: start, end and renewal dates, and attached documents (metadata and
// a content hash; the bytes live elsewhere).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/aggregate.hpp"
#include "domain/money.hpp"

namespace eventcrm::domain::contract {

inline constexpr std::string_view kCategory = "contract";

struct Created {
  static constexpr std::string_view kType = "contract.created.v1";
  std::string contract_id;
  std::string account_id;
  std::optional<std::string> order_id;
  std::string title;
  Date start_date;
  Date end_date;
  std::optional<Date> renewal_date;  // when a renewal proposal is due
  std::optional<Money> value;
  std::string created_by;
  Timestamp created_at;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contract_id", s.contract_id);
    f("account_id", s.account_id);
    f("order_id", s.order_id);
    f("title", s.title);
    f("start_date", s.start_date);
    f("end_date", s.end_date);
    f("renewal_date", s.renewal_date);
    f("value", s.value);
    f("created_by", s.created_by);
    f("created_at", s.created_at);
  }
  bool operator==(const Created&) const = default;
};

struct DocumentAttached {
  static constexpr std::string_view kType = "contract.document_attached.v1";
  std::string contract_id;
  std::string account_id;
  std::string document_id;
  std::string file_name;
  std::string media_type;
  std::int64_t size_bytes = 0;
  std::string sha256;  // lowercase hex of the content
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contract_id", s.contract_id);
    f("account_id", s.account_id);
    f("document_id", s.document_id);
    f("file_name", s.file_name);
    f("media_type", s.media_type);
    f("size_bytes", s.size_bytes);
    f("sha256", s.sha256);
  }
  bool operator==(const DocumentAttached&) const = default;
};

struct Renewed {
  static constexpr std::string_view kType = "contract.renewed.v1";
  std::string contract_id;
  std::string account_id;
  Date previous_end_date;
  Date end_date;
  std::optional<Date> renewal_date;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contract_id", s.contract_id);
    f("account_id", s.account_id);
    f("previous_end_date", s.previous_end_date);
    f("end_date", s.end_date);
    f("renewal_date", s.renewal_date);
  }
  bool operator==(const Renewed&) const = default;
};

struct Terminated {
  static constexpr std::string_view kType = "contract.terminated.v1";
  std::string contract_id;
  std::string account_id;
  std::string reason;
  Date terminated_on;
  template <class S, class F>
  static void fields(S& s, F&& f) {
    f("contract_id", s.contract_id);
    f("account_id", s.account_id);
    f("reason", s.reason);
    f("terminated_on", s.terminated_on);
  }
  bool operator==(const Terminated&) const = default;
};

using Event = std::variant<Created, DocumentAttached, Renewed, Terminated>;

enum class Status { none, active, terminated };
struct State {
  Status status = Status::none;
  std::string id;
  std::string account_id;
  Date start_date;
  Date end_date;
  std::optional<Date> renewal_date;
  std::vector<std::string> document_hashes;
};

struct Create {
  std::string account_id;
  std::optional<std::string> order_id;
  std::string title;
  std::optional<Date> start_date;
  std::optional<Date> end_date;
  std::optional<Date> renewal_date;
  std::optional<Money> value;
};
struct AttachDocument {
  std::string file_name;
  std::string media_type;
  std::int64_t size_bytes = 0;
  std::string sha256;
};
struct Renew {
  Date end_date;
  std::optional<Date> renewal_date;
};
struct Terminate {
  std::string reason;
};
using Command = std::variant<Create, AttachDocument, Renew, Terminate>;

struct Aggregate {
  using State = contract::State;
  using Event = contract::Event;
  using Command = contract::Command;
  static constexpr std::string_view category = kCategory;
  static void apply(State& s, const Event& e);
  static Result<std::vector<Event>> decide(const State& s, const Command& c, const Context& ctx);
  static std::string encode(const Event& e);
  static Result<Event> decode(std::string_view type, std::string_view json);
  static std::string_view type_of(const Event& e);
  static std::vector<std::string_view> event_types();
  static bool retryable(const Command& c) { return !std::holds_alternative<Create>(c); }
};

}  // namespace eventcrm::domain::contract
