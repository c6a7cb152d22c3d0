// Process-crash durability: a real appender process is killed with SIGKILL at a random moment,
// the store is reopened, and every append it acknowledged must be there, in a clean log.
//
// Every other store directory runs with Durability::relaxed: without fsync an append must still
// survive a process crash (the bytes are in the kernel's page cache). Two directories in four
// write their WALs over zero-filled spares (Options::wal_spare_bytes, as the server does), small
// enough that a WAL outgrows its spare: recovery reads logs that end in zeros, and logs that end
// past them.
// Trials: 20 by default; EVENTCRM_CRASH_TRIALS=N or --trials N for more.
// EVENTCRM_CRASH_SEED=N replays a run (the seed is printed).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eventstore/crash/store_check.hpp"
#include "eventstore/store.hpp"
#include "support/temp_dir.hpp"

#ifndef EVENTCRM_CRASH_APPENDER
#error "EVENTCRM_CRASH_APPENDER must name the crash_appender executable"
#endif

namespace {

using namespace eventcrm;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int trials_from_command_line = -1;

int trial_count() {
  if (trials_from_command_line >= 0)
    return trials_from_command_line;
  if (const char* v = std::getenv("EVENTCRM_CRASH_TRIALS"))
    return std::atoi(v);
  return 20;
}

std::uint64_t seed() {
  if (const char* v = std::getenv("EVENTCRM_CRASH_SEED"))
    return std::strtoull(v, nullptr, 10);
  return std::random_device{}();
}

struct ChildRun {
  std::string output;         // everything the child printed
  bool killed_by_us = false;  // false: it exited on its own first
  int status = 0;             // from waitpid
};

// Starts the appender, lets it run for `run_for`, kills it with SIGKILL and reaps it.
ChildRun run_and_kill(const std::vector<std::string>& args, milliseconds run_for) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2 failed");
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(126);
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);

  ChildRun run;
  char buf[1 << 16];
  bool eof = false;
  auto read_until = [&](Clock::time_point until) {
    while (!eof) {
      const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
      if (left <= 0)
        return;
      pollfd p{fds[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left));
      if (ready < 0 && errno != EINTR)
        return;
      if (ready <= 0)
        continue;
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) {
        run.output.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        eof = true;
      }
    }
  };
  read_until(Clock::now() + run_for);
  run.killed_by_us = !eof && ::kill(pid, SIGKILL) == 0;
  // After SIGKILL the write end closes as the process dies; drain what it wrote before.
  read_until(Clock::now() + std::chrono::seconds(10));
  ::close(fds[0]);
  if (!eof)
    ::kill(pid, SIGKILL);
  while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  return run;
}

struct Ack {
  std::string stream;
  std::int64_t first_version = 0, last_version = 0;
  std::uint64_t first_position = 0, last_position = 0;
  std::vector<std::string> ids;
};

// Parses complete lines only: a line cut by the kill has no newline and was never an ack.
// Returns false on an `error` line or a malformed ack.
bool parse_acks(const std::string& output, std::vector<Ack>& acks, std::string& problem) {
  std::size_t start = 0;
  while (true) {
    const auto end = output.find('\n', start);
    if (end == std::string::npos)
      break;
    std::istringstream line(output.substr(start, end - start));
    start = end + 1;
    std::string word;
    line >> word;
    if (word == "ready" || word == "done")
      continue;
    if (word != "ack") {
      problem = "appender said: " + line.str();
      return false;
    }
    Ack a;
    line >> a.stream >> a.first_version >> a.last_version >> a.first_position >> a.last_position;
    for (std::string id; line >> id;)
      a.ids.push_back(id);
    const auto n = a.ids.size();
    if (!line.eof() || n == 0 || a.last_position - a.first_position + 1 != n ||
        static_cast<std::size_t>(a.last_version - a.first_version + 1) != n) {
      problem = "malformed ack: " + line.str();
      return false;
    }
    acks.push_back(std::move(a));
  }
  return true;
}

TEST(CrashTest, KilledAppenderLosesNoAcknowledgedEvent) {
  const int trials = trial_count();
  const auto s = seed();
  std::printf("crash test: %d trials, seed %llu\n", trials, static_cast<unsigned long long>(s));
  std::mt19937_64 rng(s);
  eventcrm::testing::TempDir root;

  // A directory serves a few trials in a row, so recovery of a crashed store is itself
  // crashed and recovered again.
  constexpr int kTrialsPerDirectory = 4;
  test::AckedLog acked;
  std::uint64_t total_acks = 0, total_events = 0, total_lost = 0;
  const auto started = Clock::now();
  for (int trial = 0; trial < trials; ++trial) {
    const auto dir = root.path() / ("store-" + std::to_string(trial / kTrialsPerDirectory));
    if (trial % kTrialsPerDirectory == 0)
      acked.clear();
    const bool relaxed = (trial / kTrialsPerDirectory) % 2 == 1;
    const bool spare = (trial / kTrialsPerDirectory) % 4 < 2;
    const auto run_for = milliseconds(10 + rng() % 391);
    const auto run = run_and_kill(
        {EVENTCRM_CRASH_APPENDER, "--path", dir.string(), "--run", std::to_string(trial + 1),
         "--threads", std::to_string(2 + rng() % 7), "--durability", relaxed ? "relaxed" : "sync",
         "--wal-spare-bytes", spare ? "1048576" : "0", "--max-seconds", "5"},
        run_for);
    ASSERT_TRUE(run.killed_by_us)
        << "trial " << trial << ": the appender exited by itself, status " << run.status
        << ", output tail: "
        << run.output.substr(run.output.size() - std::min<std::size_t>(run.output.size(), 500));
    std::vector<Ack> acks;
    std::string problem;
    ASSERT_TRUE(parse_acks(run.output, acks, problem)) << "trial " << trial << ": " << problem;
    for (const auto& a : acks) {
      for (std::size_t i = 0; i < a.ids.size(); ++i) {
        acked[a.first_position + i] = {a.ids[i], a.stream,
                                       a.first_version + static_cast<std::int64_t>(i)};
      }
      total_events += a.ids.size();
    }
    total_acks += acks.size();

    store::Options options;
    options.path = dir.string();
    auto opened = store::EventStore::open(options);
    ASSERT_TRUE(opened) << "trial " << trial << ": reopen failed: " << opened.error().message;
    const auto outcome = test::check_store(**opened, acked);
    (*opened)->close();
    total_lost += outcome.lost;
    ASSERT_TRUE(outcome.ok()) << "trial " << trial << (relaxed ? " (relaxed" : " (sync")
                              << (spare ? ", zero-filled WALs" : "") << ", killed after "
                              << run_for.count() << " ms, " << acks.size()
                              << " acks): " << outcome.summary();
  }
  const auto elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "crash test: %d trials in %.1f s, %llu acknowledged appends (%llu events), %llu lost\n",
      trials, elapsed, static_cast<unsigned long long>(total_acks),
      static_cast<unsigned long long>(total_events), static_cast<unsigned long long>(total_lost));
  EXPECT_EQ(total_lost, 0u);
  if (trials >= 10) {  // fewer trials may all be killed while the store is still opening
    EXPECT_GT(total_events, 0u) << "no trial acknowledged anything: nothing tested";
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--trials") == 0 && i + 1 < argc) {
      trials_from_command_line = std::atoi(argv[i + 1]);
    } else if (std::strncmp(argv[i], "--trials=", 9) == 0) {
      trials_from_command_line = std::atoi(argv[i] + 9);
    }
  }
  return RUN_ALL_TESTS();
}
