#include "core/cron.h"

#include <charconv>
#include <ctime>

namespace gearbox::core {
namespace {

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Parses one field into bits lo..hi. `wday` maps 7 to 0.
template <size_t N>
bool ParseField(std::string_view f, int lo, int hi, bool wday, std::bitset<N>* bits, bool* star) {
  bits->reset();
  *star = f.empty() || f == "*";
  if (f.empty()) f = "*";
  while (!f.empty()) {
    size_t comma = f.find(',');
    std::string_view item = f.substr(0, comma);
    f = comma == std::string_view::npos ? std::string_view() : f.substr(comma + 1);
    if (item.empty()) return false;
    if (comma != std::string_view::npos && f.empty()) return false;  // trailing comma
    int step = 1;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      if (!ParseInt(item.substr(slash + 1), &step) || step <= 0) return false;
      item = item.substr(0, slash);
    }
    int a = lo;
    int b = hi;
    if (item != "*") {
      size_t dash = item.find('-');
      if (dash == std::string_view::npos) {
        if (!ParseInt(item, &a)) return false;
        b = slash == std::string_view::npos ? a : hi;
      } else if (!ParseInt(item.substr(0, dash), &a) || !ParseInt(item.substr(dash + 1), &b)) {
        return false;
      }
    }
    int top = wday ? 7 : hi;
    if (a < lo || b > top || a > b) return false;
    for (int v = a; v <= b; v += step)
      bits->set(static_cast<size_t>(wday && v == 7 ? 0 : v));
  }
  return true;
}

}  // namespace

std::optional<CronSpec> CronSpec::Parse(std::string_view minute, std::string_view hour,
                                        std::string_view mday, std::string_view month,
                                        std::string_view wday, std::string* error) {
  CronSpec s;
  bool star = false;
  if (!ParseField(minute, 0, 59, false, &s.minutes, &star)) {
    *error = "bad minute field";
    return std::nullopt;
  }
  if (!ParseField(hour, 0, 23, false, &s.hours, &star)) {
    *error = "bad hour field";
    return std::nullopt;
  }
  if (!ParseField(mday, 1, 31, false, &s.mdays, &s.mday_star)) {
    *error = "bad day-of-month field";
    return std::nullopt;
  }
  if (!ParseField(month, 1, 12, false, &s.months, &star)) {
    *error = "bad month field";
    return std::nullopt;
  }
  if (!ParseField(wday, 0, 6, true, &s.wdays, &s.wday_star)) {
    *error = "bad day-of-week field";
    return std::nullopt;
  }
  return s;
}

int64_t CronSpec::NextAfter(int64_t after) const {
  // Start at the next whole minute.
  time_t t = static_cast<time_t>(after - (after % 60 + 60) % 60 + 60);
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_sec = 0;
  const int kMaxDays = 366 * 5;
  for (int days = 0; days <= kMaxDays;) {
    bool mday_ok = mdays.test(static_cast<size_t>(tm.tm_mday));
    bool wday_ok = wdays.test(static_cast<size_t>(tm.tm_wday));
    bool day_ok;
    if (mday_star || wday_star) {
      day_ok = mday_ok && wday_ok;
    } else {
      day_ok = mday_ok || wday_ok;
    }
    if (!months.test(static_cast<size_t>(tm.tm_mon + 1)) || !day_ok) {
      // Next day at 00:00.
      tm.tm_mday += 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      tm.tm_isdst = -1;
      t = mktime(&tm);
      localtime_r(&t, &tm);
      ++days;
      continue;
    }
    if (!hours.test(static_cast<size_t>(tm.tm_hour))) {
      tm.tm_hour += 1;
      tm.tm_min = 0;
      tm.tm_isdst = -1;
      int prev_day = tm.tm_mday;
      t = mktime(&tm);
      localtime_r(&t, &tm);
      if (tm.tm_mday != prev_day) ++days;
      continue;
    }
    if (!minutes.test(static_cast<size_t>(tm.tm_min))) {
      tm.tm_min += 1;
      tm.tm_isdst = -1;
      int prev_day = tm.tm_mday;
      t = mktime(&tm);
      localtime_r(&t, &tm);
      if (tm.tm_mday != prev_day) ++days;
      continue;
    }
    return static_cast<int64_t>(t);
  }
  return -1;
}

}  // namespace gearbox::core
