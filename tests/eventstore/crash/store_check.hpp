// Checks a reopened store against what was acknowledged before a crash or a power loss: every
// acknowledged event at its position with its content, a gap-free log, contiguous stream
// versions and an intact hash chain. Shared by the crash test and the power-loss test.
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "eventstore/crash/crash_events.hpp"
#include "eventstore/store.hpp"

namespace eventcrm::test {

struct AckedEvent {
  std::string id;
  std::string stream;
  std::int64_t version = 0;
};

// Acknowledged events by position.
using AckedLog = std::map<std::uint64_t, AckedEvent>;

struct CheckOutcome {
  std::uint64_t head = 0;
  std::uint64_t lost = 0;             // acknowledged events missing or different
  std::vector<std::string> problems;  // the first few, for the failure message
  bool ok() const { return problems.empty(); }
  std::string summary() const {
    std::ostringstream out;
    out << "head " << head << ", lost " << lost;
    for (const auto& p : problems)
      out << "\n  " << p;
    return out.str();
  }
};

// Records one acknowledged single-stream append from its result.
inline void record_ack(AckedLog& log, const store::AppendResult& r) {
  if (r.streams.size() != 1)
    return;
  for (std::size_t i = 0; i < r.event_ids.size(); ++i) {
    log[r.first_position + i] = {r.event_ids[i], r.streams[0].stream,
                                 r.streams[0].first_version + static_cast<std::int64_t>(i)};
  }
}

inline CheckOutcome check_store(store::EventStore& s, const AckedLog& acked) {
  CheckOutcome out;
  auto problem = [&out](std::string p) {
    if (out.problems.size() < 8)
      out.problems.push_back(std::move(p));
    else if (out.problems.size() == 8)
      out.problems.push_back("...");
  };
  out.head = s.head();

  // The whole log, in order: gap-free positions, contiguous versions, unique ids.
  std::unordered_map<std::string, std::int64_t> next_version;
  std::unordered_set<std::string> ids;
  std::unordered_map<std::uint64_t, store::RecordedEvent> wanted;  // acknowledged positions
  std::uint64_t expected_position = 1;
  std::uint64_t after = 0;
  for (int pages = 0; after < out.head && pages < 1'000'000; ++pages) {
    auto page = s.read_all(after, 1000);
    if (!page) {
      problem("read_all after " + std::to_string(after) + ": " + page.error().message);
      break;
    }
    if (page->events.empty() && page->scanned_to <= after) {
      problem("read_all made no progress after " + std::to_string(after));
      break;
    }
    for (auto& e : page->events) {
      if (e.position != expected_position) {
        problem("position " + std::to_string(e.position) + " where " +
                std::to_string(expected_position) + " was expected");
      }
      expected_position = e.position + 1;
      auto [it, fresh] = next_version.try_emplace(e.stream, 0);
      if (e.stream_version != it->second) {
        problem("stream " + e.stream + " version " + std::to_string(e.stream_version) + " where " +
                std::to_string(it->second) + " was expected");
      }
      it->second = e.stream_version + 1;
      if (!ids.insert(e.id).second)
        problem("duplicate event id " + e.id);
      if (auto bad = content_mismatch(e); !bad.empty()) {
        problem("position " + std::to_string(e.position) + " content differs: " + bad);
      }
      if (acked.count(e.position) != 0)
        wanted.emplace(e.position, std::move(e));
    }
    after = page->scanned_to;
  }
  if (expected_position != out.head + 1) {
    problem("log ends at " + std::to_string(expected_position - 1) + " but head is " +
            std::to_string(out.head));
  }

  for (const auto& [position, ack] : acked) {
    auto it = wanted.find(position);
    if (it == wanted.end()) {
      ++out.lost;
      problem("acknowledged position " + std::to_string(position) + " (" + ack.id +
              ") is missing; head " + std::to_string(out.head));
      continue;
    }
    const auto& e = it->second;
    if (e.id != ack.id || e.stream != ack.stream || e.stream_version != ack.version) {
      ++out.lost;
      problem("position " + std::to_string(position) + " holds " + e.stream + "@" +
              std::to_string(e.stream_version) + " " + e.id + ", acknowledged " + ack.stream + "@" +
              std::to_string(ack.version) + " " + ack.id);
    }
  }

  const auto report = s.verify();
  if (!report.ok) {
    problem("verify: " + report.problem + " at " +
            std::to_string(report.first_broken_position.value_or(0)));
  } else if (report.checked != out.head) {
    problem("verify checked " + std::to_string(report.checked) + " of " + std::to_string(out.head));
  }
  return out;
}

}  // namespace eventcrm::test
