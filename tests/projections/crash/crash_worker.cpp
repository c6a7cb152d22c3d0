// A projection worker process for the kill -9 test: runs the counting projection over a store
// (optionally appending events meanwhile) until killed, or until caught up with
// --exit-when-caught-up (exit code 0), so the parent can check exactly-once application.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "eventstore/store.hpp"
#include "projections/counting_projection.hpp"
#include "projections/runtime.hpp"

using namespace eventcrm;

int main(int argc, char** argv) {
  std::string data;
  long append = 0;
  long batch = 1000;
  bool exit_when_caught_up = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else if (a == "--append" && i + 1 < argc)
      append = std::atol(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batch = std::atol(argv[++i]);
    else if (a == "--exit-when-caught-up")
      exit_when_caught_up = true;
  }
  if (data.empty() || batch <= 0) {
    std::fprintf(stderr,
                 "usage: projection_crash_worker --data DIR [--append N] [--batch N] "
                 "[--exit-when-caught-up]\n");
    return 2;
  }
  store::Options so;
  so.path = data;
  so.durability = store::Durability::relaxed;
  auto st = store::EventStore::open(so);
  if (!st) {
    std::fprintf(stderr, "cannot open the store: %s\n", st.error().message.c_str());
    return 3;
  }
  projections::RuntimeOptions ro;
  ro.path = projections::readmodels_path(data);
  ro.catch_up_batch = static_cast<std::size_t>(batch);
  ro.poll = std::chrono::milliseconds(10);
  auto rt = projections::Runtime::open(**st, ro);
  if (!rt) {
    std::fprintf(stderr, "cannot open the read models: %s\n", rt.error().message.c_str());
    return 3;
  }
  auto& runtime = **rt;
  if (!runtime.add(std::make_unique<testing::CountingProjection>()))
    return 3;
  runtime.start();
  std::thread appender([&] {
    for (long i = 0; i < append; i += 10) {
      std::vector<store::NewEvent> events(10);
      for (auto& e : events) {
        e.type = "lead.noted.v1";
        e.data = R"({"n":)" + std::to_string(i) + "}";
      }
      auto r = (*st)->append("lead-crash", store::ExpectedVersion::any(), std::move(events));
      if (!r)
        std::fprintf(stderr, "append failed: %s\n", r.error().message.c_str());
    }
  });
  appender.join();
  if (!exit_when_caught_up) {
    for (;;)
      std::this_thread::sleep_for(std::chrono::seconds(1));  // until killed
  }
  const bool ok = runtime.wait_until_applied({"counting"}, (*st)->head(), std::chrono::seconds(60));
  runtime.stop();
  (*st)->close();
  return ok ? 0 : 1;
}
