// Exactly-once effect across crashes: a real projection worker process is killed with SIGKILL
// at random moments (while catching up, while appending and following live), restarted, and in
// the end every event has been applied exactly once: count == head, no position seen twice.
//
// Trials: 10 by default; EVENTCRM_PROJECTION_CRASH_TRIALS=N for more. EVENTCRM_CRASH_SEED=N
// replays a run (the seed is printed).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/store.hpp"
#include "projections/bytes.hpp"
#include "projections/counting_projection.hpp"
#include "projections/runtime.hpp"
#include "support/temp_dir.hpp"

#ifndef EVENTCRM_PROJECTION_CRASH_WORKER
#error "EVENTCRM_PROJECTION_CRASH_WORKER must name the projection_crash_worker executable"
#endif

namespace {

using namespace eventcrm;

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Waits for the child to exit by itself for up to `timeout`; kills it past that.
int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  reap(pid);
  return -1;
}

int trials() {
  if (const char* v = std::getenv("EVENTCRM_PROJECTION_CRASH_TRIALS"))
    return std::atoi(v);
  return 10;
}

TEST(ProjectionCrashTest, KilledWorkerAppliesEveryEventExactlyOnce) {
  const std::uint64_t seed = std::getenv("EVENTCRM_CRASH_SEED")
                                 ? std::strtoull(std::getenv("EVENTCRM_CRASH_SEED"), nullptr, 10)
                                 : std::random_device{}();
  std::printf("projection crash test: %d trials, seed %llu\n", trials(),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  eventcrm::testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  {
    store::Options o;
    o.path = data;
    o.durability = store::Durability::relaxed;
    auto s = store::EventStore::open(o);
    ASSERT_TRUE(s) << s.error().message;
    for (int b = 0; b < 20; ++b) {
      std::vector<store::NewEvent> events(1000);
      for (auto& e : events) {
        e.type = "lead.noted.v1";
        e.data = R"({"b":)" + std::to_string(b) + "}";
      }
      ASSERT_TRUE((*s)->append("lead-seed", store::ExpectedVersion::any(), std::move(events)));
    }
    (*s)->close();
  }
  int killed = 0;
  for (int t = 0; t < trials(); ++t) {
    const auto batch = std::to_string(1 + rng() % 1000);
    const auto append = std::to_string(rng() % 3000);
    const pid_t pid = spawn(
        {EVENTCRM_PROJECTION_CRASH_WORKER, "--data", data, "--batch", batch, "--append", append});
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 600));
    ::kill(pid, SIGKILL);
    const int status = reap(pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "trial " << t << ": the worker exited by itself, status " << status;
    ++killed;
  }
  const pid_t pid = spawn({EVENTCRM_PROJECTION_CRASH_WORKER, "--data", data, "--batch", "1000",
                           "--exit-when-caught-up"});
  const int status = wait_exit(pid, std::chrono::seconds(60));
  ASSERT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  store::Options o;
  o.path = data;
  auto s = store::EventStore::open(o);
  ASSERT_TRUE(s) << s.error().message;
  const std::uint64_t head = (*s)->head();
  {
    projections::RuntimeOptions ro;
    ro.path = projections::readmodels_path(data);
    auto rt = projections::Runtime::open(**s, ro);
    ASSERT_TRUE(rt) << rt.error().message;
    ASSERT_TRUE((*rt)->add(std::make_unique<eventcrm::testing::CountingProjection>()));
    auto v = (*rt)->view("counting");
    ASSERT_TRUE(v) << v.error().message;
    EXPECT_EQ((*v)->position(), head);
    EXPECT_EQ((*v)->get("count").value_or("none"), std::to_string(head));
    EXPECT_EQ((*v)->get("dup").value_or(""), "") << "an event was applied twice";
    std::uint64_t seen = 0, expected = 1;
    bool in_order = true;
    (*v)->scan("seen/", "seen0", [&](std::string_view key, std::string_view) {
      in_order = in_order && projections::bytes::get_be64(key.substr(5)) == expected++;
      ++seen;
      return true;
    });
    EXPECT_EQ(seen, head) << "an event was never applied";
    EXPECT_TRUE(in_order);
  }
  (*s)->close();
  std::printf("projection crash test: %d kills, %llu events applied exactly once\n", killed,
              static_cast<unsigned long long>(head));
}

}  // namespace
