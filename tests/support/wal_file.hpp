// Reading and damaging RocksDB WAL files in tests: the physical records of a WAL, and whole-file
// reads and writes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace eventcrm::testing {

inline constexpr std::size_t kWalBlock = 32768;  // RocksDB's WAL block
inline constexpr std::size_t kWalHeader = 7;     // crc32c (4), length (2), type (1)

struct WalRecord {
  std::size_t offset = 0;  // of its header
  std::size_t size = 0;    // header and payload
  int type = 0;            // 1 full, 2 first, 3 middle, 4 last fragment
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The physical records of a WAL (not recycled, so 7-byte headers).
inline std::vector<WalRecord> wal_records(const std::string& wal) {
  std::vector<WalRecord> out;
  std::size_t at = 0;
  while (at + kWalHeader <= wal.size()) {
    const std::size_t left_in_block = kWalBlock - at % kWalBlock;
    if (left_in_block < kWalHeader) {
      at += left_in_block;  // the block's trailer
      continue;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(wal.data() + at);
    const std::size_t length = h[4] | (h[5] << 8);
    const int type = h[6];
    if (type == 0 && length == 0)
      break;
    out.push_back({at, kWalHeader + length, type});
    at += kWalHeader + length;
  }
  return out;
}

// The last non-empty WAL file in `dir` (empty path: none).
inline std::filesystem::path last_wal(const std::filesystem::path& dir) {
  std::filesystem::path found;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log" && std::filesystem::file_size(e.path()) > 0 &&
        (found.empty() || e.path().filename().string() > found.filename().string()))
      found = e.path();
  }
  return found;
}

}  // namespace eventcrm::testing
