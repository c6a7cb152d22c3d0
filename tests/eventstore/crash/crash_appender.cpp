// The victim of the crash test: appends from many threads and prints one line per acknowledged
// append, so the test that kills it with SIGKILL knows what the store promised to keep.
//
//   crash_appender --path DIR --run N [--threads T] [--durability sync|relaxed] [--max-seconds S]
//
// Output, one line per acknowledged append, written with a single write(2) each:
//   ack <stream> <first_version> <last_version> <first_position> <last_position> <event ids...>
// Event contents derive from their ids (crash_events.hpp). An unexpected store error prints
// `error <code> <message>` and exits 3: the test fails on it.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/crash/crash_events.hpp"
#include "eventstore/store.hpp"

namespace {

using namespace eventcrm;

struct Args {
  std::string path;
  std::uint32_t run = 1;
  int threads = 6;
  store::Durability durability = store::Durability::sync;
  double max_seconds = 10.0;          // a bound in case nobody kills us
  std::uint64_t wal_spare_bytes = 0;  // Options::wal_spare_bytes
};

constexpr int kPrivateStreamsPerWriter = 3;
constexpr int kSharedStreams = 4;

std::mutex out_mutex;

void write_line(const std::string& line) {
  std::lock_guard lock(out_mutex);
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      std::_Exit(4);  // the reader is gone: nothing left to report to
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void fail(const store::Error& e) {
  write_line("error " + std::string(store::to_string(e.code)) + " " + e.message + "\n");
  std::_Exit(3);
}

void writer(store::EventStore& s, const Args& args, std::uint32_t index,
            std::chrono::steady_clock::time_point deadline) {
  std::mt19937_64 rng(args.run * 1'000'003ull + index);
  // Private streams: only this writer appends to them, so it knows their exact versions,
  // including those left by earlier (killed) runs on the same directory.
  std::vector<std::string> own;
  std::vector<std::int64_t> versions;
  for (int k = 0; k < kPrivateStreamsPerWriter; ++k) {
    own.push_back("crash-w" + std::to_string(index) + "s" + std::to_string(k));
    auto v = s.stream_version(own.back());
    if (!v)
      fail(v.error());
    versions.push_back(*v);
  }
  std::uint64_t seq = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool shared = rng() % 5 < 2;
    const std::size_t n = rng() % 2 == 0 ? 1 : 2 + rng() % 19;
    std::vector<store::NewEvent> events;
    events.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      events.push_back(test::make_event(args.run, index, seq++));

    std::string stream;
    store::ExpectedVersion expected;
    std::size_t k = 0;
    if (shared) {
      stream = "shared-" + std::to_string(rng() % kSharedStreams);
      expected = store::ExpectedVersion::any();
    } else {
      k = rng() % own.size();
      stream = own[k];
      expected = versions[k] < 0 ? store::ExpectedVersion::no_stream()
                                 : store::ExpectedVersion::exact(versions[k]);
    }
    auto r = s.append(stream, expected, std::move(events));
    if (!r)
      fail(r.error());
    if (r->streams.size() != 1 || r->event_ids.size() != n) {
      fail({store::errc::corrupted, "unexpected append result shape", stream, {}});
    }
    if (!shared)
      versions[k] = r->streams[0].last_version;

    std::string line = "ack " + stream + " " + std::to_string(r->streams[0].first_version) + " " +
                       std::to_string(r->streams[0].last_version) + " " +
                       std::to_string(r->first_position) + " " + std::to_string(r->last_position);
    for (const auto& id : r->event_ids)
      line += " " + id;
    line += "\n";
    write_line(line);
  }
}

bool parse(int argc, char** argv, Args& args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    const char* value = argv[i + 1];
    if (key == "--path") {
      args.path = value;
    } else if (key == "--run") {
      args.run = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (key == "--threads") {
      args.threads = std::atoi(value);
    } else if (key == "--wal-spare-bytes") {
      args.wal_spare_bytes = std::strtoull(value, nullptr, 10);
    } else if (key == "--max-seconds") {
      args.max_seconds = std::atof(value);
    } else if (key == "--durability") {
      const std::string d = value;
      if (d != "sync" && d != "relaxed")
        return false;
      args.durability = d == "sync" ? store::Durability::sync : store::Durability::relaxed;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !args.path.empty() && args.threads > 0 && args.threads <= 256;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: crash_appender --path DIR --run N [--threads T] "
                 "[--durability sync|relaxed] [--wal-spare-bytes N] [--max-seconds S]\n");
    return 2;
  }
  store::Options options;
  options.path = args.path;
  options.durability = args.durability;
  options.wal_spare_bytes = args.wal_spare_bytes;
  auto opened = store::EventStore::open(options);
  if (!opened)
    fail(opened.error());
  auto& s = **opened;
  write_line("ready\n");

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(args.max_seconds));
  std::vector<std::thread> threads;
  for (int i = 0; i < args.threads; ++i) {
    threads.emplace_back(writer, std::ref(s), std::cref(args), static_cast<std::uint32_t>(i),
                         deadline);
  }
  for (auto& t : threads)
    t.join();
  s.close();
  write_line("done\n");
  return 0;
}
