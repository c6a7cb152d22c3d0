// Deterministic test events shared by the crash appender and its checkers: everything about an
// event (type, data, metadata) is derived from its id, so a checker that only saw the id in an
// acknowledgement can recompute what the store must hold.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "eventstore/event.hpp"

namespace eventcrm::test {

inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// A canonical lowercase UUID (version 4 layout) unique per (run, writer, sequence).
inline std::string make_event_id(std::uint32_t run, std::uint32_t writer, std::uint64_t seq) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012llx", run, writer & 0xffffu,
                static_cast<unsigned>((seq >> 48) & 0xfffu),
                static_cast<unsigned>((seq >> 60) & 0xfu),
                static_cast<unsigned long long>(seq & 0xffffffffffffull));
  return buf;
}

inline std::string event_type_for(std::string_view id) {
  return (fnv1a(id) & 1u) != 0 ? "crash.appended.v1" : "crash.recorded.v1";
}

// A JSON object whose padding length and contents depend on the id.
inline std::string event_data_for(std::string_view id) {
  const std::uint64_t h = fnv1a(id);
  std::string data = "{\"id\":\"";
  data += id;
  data += "\",\"h\":";
  data += std::to_string(h % 1'000'000'007ull);
  data += ",\"pad\":\"";
  const std::size_t pad = (h >> 8) % 200;
  for (std::size_t i = 0; i < pad; ++i) {
    data += static_cast<char>('a' + (h >> (i % 50)) % 26);
  }
  data += "\"}";
  return data;
}

inline store::Metadata event_metadata_for(std::string_view id) {
  store::Metadata m;
  m.actor = "crash-test";
  m.correlation_id = std::string(id);
  return m;
}

inline store::NewEvent make_event(std::uint32_t run, std::uint32_t writer, std::uint64_t seq) {
  store::NewEvent e;
  e.id = make_event_id(run, writer, seq);
  e.type = event_type_for(e.id);
  e.data = event_data_for(e.id);
  e.metadata = event_metadata_for(e.id);
  return e;
}

// Empty when `e` holds what the event with its id must hold; otherwise what differs.
inline std::string content_mismatch(const store::RecordedEvent& e) {
  if (e.type != event_type_for(e.id))
    return "type " + e.type;
  if (e.data != event_data_for(e.id))
    return "data " + e.data;
  if (!(e.metadata == event_metadata_for(e.id)))
    return "metadata";
  return {};
}

}  // namespace eventcrm::test
