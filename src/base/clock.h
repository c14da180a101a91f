// Clock: the seam through which core code reads time, so tests can use a fake clock.
// SystemClock is stateless and thread-safe. FakeClock belongs to one test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace gearbox {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for timeouts.
  virtual SteadyTime Now() const = 0;
  // Wall-clock time since the epoch, for SUBMIT_JOB_EPOCH and cron schedules.
  virtual int64_t WallMillis() const = 0;
  int64_t WallSeconds() const { return WallMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  int64_t WallMillis() const override {
    return std::chrono::duration_cast<Millis>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to; wall and steady time advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wall_seconds = 1'700'000'000) : wall_ms_(wall_seconds * 1000) {}
  SteadyTime Now() const override { return SteadyTime(Millis(steady_ms_)); }
  int64_t WallMillis() const override { return wall_ms_; }
  void Advance(Millis d) {
    steady_ms_ += d.count();
    wall_ms_ += d.count();
  }

 private:
  int64_t steady_ms_ = 1'000'000;
  int64_t wall_ms_;
};

}  // namespace gearbox
