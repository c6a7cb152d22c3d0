// Domain errors: normal outcomes of a decision (bad input, wrong state), returned as values.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace eventcrm::domain {

enum class errc {
  not_found = 1,       // the record does not exist (or is not of this kind)
  already_exists,      // a create on an existing record
  invalid_transition,  // the command is not allowed in the record's current state
  validation,          // the command's fields are invalid (see Error::fields)
  conflict,            // the record changed concurrently (set by the app layer)
};

const char* to_string(errc e) noexcept;

struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

struct Error {
  errc code{};
  std::string message;
  std::vector<std::string> allowed;  // invalid_transition: what is allowed from here
  std::vector<FieldError> fields;    // validation: one entry per bad field
};

template <class T>
using Result = eventcrm::Result<T, Error>;

inline Unexpected<Error> fail(errc code, std::string message) {
  return {Error{code, std::move(message), {}, {}}};
}
inline Unexpected<Error> invalid_transition(std::string message, std::vector<std::string> allowed) {
  return {Error{errc::invalid_transition, std::move(message), std::move(allowed), {}}};
}

// Collects field errors while a command is checked; `done()` says whether any were found.
class Validation {
 public:
  void add(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }
  void require(bool ok, std::string field, std::string message) {
    if (!ok)
      add(std::move(field), std::move(message));
  }
  bool ok() const { return errors_.empty(); }
  Unexpected<Error> error() const {
    return {Error{errc::validation, "invalid fields", {}, errors_}};
  }

 private:
  std::vector<FieldError> errors_;
};

}  // namespace eventcrm::domain
