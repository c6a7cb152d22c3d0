// Small byte helpers shared by the read models: big-endian integers (so RocksDB's bytewise key
// order is numeric order) and length-prefixed strings for compact row values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace eventcrm::projections::bytes {

inline void put_be64(std::string& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void put_be32(std::string& out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline std::string be64(std::uint64_t v) {
  std::string s;
  put_be64(s, v);
  return s;
}
// `in` must hold at least 8 (4) bytes.
inline std::uint64_t get_be64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}
inline std::uint32_t get_be32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  return v;
}

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline bool get_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0)
      return true;
  }
  return false;
}
inline void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}
inline bool get_str(std::string_view& in, std::string_view& s) {
  std::uint64_t n = 0;
  if (!get_varint(in, n) || n > in.size())
    return false;
  s = in.substr(0, static_cast<std::size_t>(n));
  in.remove_prefix(static_cast<std::size_t>(n));
  return true;
}

}  // namespace eventcrm::projections::bytes
