// TzGuard: sets TZ for the lifetime of a test (setenv + tzset) and restores it afterwards, so
// local-time computations (cron schedules) are deterministic. Test-thread only.
#pragma once

#include <cstdlib>
#include <ctime>
#include <string>

namespace gearbox::unit {

class TzGuard {
 public:
  explicit TzGuard(const char* tz) {
    const char* old = std::getenv("TZ");
    had_old_ = old != nullptr;
    if (had_old_) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~TzGuard() {
    if (had_old_) {
      ::setenv("TZ", old_.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
  TzGuard(const TzGuard&) = delete;
  TzGuard& operator=(const TzGuard&) = delete;

 private:
  bool had_old_ = false;
  std::string old_;
};

}  // namespace gearbox::unit
