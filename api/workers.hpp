// A fixed pool of threads for work that may block (commands waiting for the log's group commit,
// queries waiting for a read model to catch up), so the I/O threads never do.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/thread_name.hpp"

namespace eventcrm::api {

class Workers {
 public:
  explicit Workers(std::size_t threads) {
    if (threads == 0)
      threads = 1;
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i)
      threads_.emplace_back([this] {
        name_this_thread("http-worker");
        loop();
      });
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() { stop(); }

  // Queues a job; false when the queue is full (the caller answers 429) or the pool stopped.
  bool submit(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || jobs_.size() >= max_queued_)
        return false;
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }

  // Runs the queued jobs, then joins the threads. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && threads_.empty())
        return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  std::size_t queued() const {
    std::lock_guard lock(mu_);
    return jobs_.size();
  }
  std::size_t size() const noexcept { return threads_.size(); }
  void set_max_queued(std::size_t n) { max_queued_ = n; }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty())
          return;  // stopping, and nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t max_queued_ = 100'000;
  bool stopping_ = false;
};

}  // namespace eventcrm::api
