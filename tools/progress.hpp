// Progress of a long offline job on stderr: a redrawn bar with rate and ETA on a terminal,
// a plain line every few seconds otherwise (logs, CI).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace eventcrm::tools {

class Progress {
 public:
  explicit Progress(std::string label, bool quiet = false)
      : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) != 0), quiet_(quiet) {}

  // `note`: what is going on besides the count (e.g. a last phase once it reached the total).
  void update(std::uint64_t done, std::uint64_t total, const std::string& note = {}) {
    if (quiet_)
      return;
    const auto now = Clock::now();
    const auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
    // A new note, or the count reaching the total, shows at once.
    const bool news = note != note_ || (done >= total && last_done_ < total);
    last_done_ = done;
    if (drawn_ && now - last_ < every && !news)
      return;
    note_ = note;
    last_ = now;
    drawn_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    const double pct = total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100;
    const double eta = rate > 0 && total > done ? static_cast<double>(total - done) / rate : 0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(pct / 100.0 * kWidth);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(kWidth, '.');
      std::fprintf(stderr, "\r%s [%s] %5.1f%% %llu/%llu  %.0f ev/s  ETA %.0fs  %s\x1b[K",
                   label_.c_str(), bar.c_str(), pct, static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total), rate, eta, note.c_str());
    } else {
      std::fprintf(stderr, "%s: %llu/%llu (%.1f%%), %.0f ev/s, ETA %.0fs%s%s\n", label_.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   pct, rate, eta, note.empty() ? "" : ", ", note.c_str());
    }
    std::fflush(stderr);
  }
  void finish() {
    if (!quiet_ && tty_ && drawn_)
      std::fprintf(stderr, "\n");
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  bool tty_;
  bool quiet_;
  bool drawn_ = false;
  std::string note_;
  std::uint64_t last_done_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

}  // namespace eventcrm::tools
