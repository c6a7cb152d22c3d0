// Canonical forms of contact data, so duplicates are found whatever way they were typed.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eventcrm::domain {

// Trimmed and lowercased; nullopt when it is not shaped like local@domain.tld.
std::optional<std::string> normalize_email(std::string_view email);
// Digits with a leading "+country"; a national number ("0912 345 678") gets
// `default_country_code` ("84" for Viet Nam); nullopt when fewer than 7 digits remain or
// characters other than digits, spaces and ()-./+ appear.
std::optional<std::string> normalize_phone(std::string_view phone,
                                           std::string_view default_country_code = "84");
// Uppercased letters and digits only ("0101-234 567" → "0101234567"); nullopt when empty.
std::optional<std::string> normalize_tax_id(std::string_view tax_id);

}  // namespace eventcrm::domain
