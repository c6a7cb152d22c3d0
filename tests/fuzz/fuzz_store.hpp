// The store a fuzz target runs against: a fresh directory in the temp dir, named after the
// target and the process, with relaxed durability (a fuzz run needs no fsync). Aborts if the
// store cannot be opened: nothing could be fuzzed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "eventstore/store.hpp"

namespace eventcrm::fuzz {

struct FuzzStore {
  std::filesystem::path dir;
  std::unique_ptr<store::EventStore> store;
};

inline FuzzStore open_fuzz_store(const std::string& target) {
  FuzzStore out;
  out.dir = std::filesystem::temp_directory_path() /
            ("eventcrm-" + target + "-" + std::to_string(static_cast<long>(getpid())));
  std::filesystem::remove_all(out.dir);
  store::Options o;
  o.path = out.dir.string();
  o.durability = store::Durability::relaxed;
  auto s = store::EventStore::open(o);
  if (!s)
    std::abort();
  out.store = std::move(*s);
  return out;
}

}  // namespace eventcrm::fuzz
