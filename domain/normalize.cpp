// Normalisation of emails, phone numbers and tax ids for duplicate detection.
#include "domain/normalize.hpp"

#include <cctype>

namespace eventcrm::domain {
namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::string> normalize_email(std::string_view email) {
  email = trim(email);
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto domain = email.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size())
    return std::nullopt;
  std::string out;
  for (char c : email) {
    if (std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x20) {
      return std::nullopt;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::optional<std::string> normalize_phone(std::string_view phone,
                                           std::string_view default_country_code) {
  phone = trim(phone);
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < phone.size(); ++i) {
    char c = phone[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '+' && i == 0) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
      return std::nullopt;
    }
  }
  if (!plus && digits.starts_with("00")) {
    digits.erase(0, 2);
    plus = true;
  }
  if (!plus && digits.starts_with("0")) {
    digits = std::string(default_country_code) + digits.substr(1);
    plus = true;
  }
  if (digits.size() < 7 || digits.size() > 15)
    return std::nullopt;
  return "+" + digits;
}

std::optional<std::string> normalize_tax_id(std::string_view tax_id) {
  std::string out;
  for (char c : tax_id) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (c != ' ' && c != '-' && c != '.' && c != '/') {
      return std::nullopt;
    }
  }
  if (out.empty())
    return std::nullopt;
  return out;
}

}  // namespace eventcrm::domain
