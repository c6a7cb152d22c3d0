// Reading back a row a projection stored in the domain's JSON codec. Include from
// projections/*.cpp only: it brings in the codec.
#pragma once

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "domain/codec.hpp"
#include "projections/projection.hpp"

namespace eventcrm::projections {

// The row at `key` decoded as a T; nullopt when there is none. A row that does not decode is a
// bug or damage: it throws (the projection stops at that event, see Projection::apply).
template <class T>
std::optional<T> read_stored(Batch& batch, const std::string& key, std::string_view projection) {
  auto row = batch.get(key);
  if (!row)
    return std::nullopt;
  auto parsed = domain::codec::decode<T>(*row);
  if (!parsed) {
    std::string shown = key;
    std::replace(shown.begin(), shown.end(), '\0', '/');
    throw std::runtime_error(std::string(projection) + ": stored row " + shown +
                             " does not decode");
  }
  return std::move(*parsed);
}

}  // namespace eventcrm::projections
