// CronSpec: the schedule of a SUBMIT_JOB_SCHED job, with cron(8) field semantics.
// Fields are minute, hour, day of month, month, day of week (0-7, 0 and 7 are Sunday). Each is
// "*" (or empty), a number, a range "a-b", a step "*/n" or "a-b/n", or a comma list of those.
// As in cron, when both day fields are restricted a day matches if either matches.
// Times are computed in the server's local time zone (TZ). Pure value type.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gearbox::core {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> mdays;   // 1..31
  std::bitset<13> months;  // 1..12
  std::bitset<7> wdays;    // 0..6, Sunday = 0
  bool mday_star = true;
  bool wday_star = true;

  // Parses the five wire fields; returns nullopt and sets *error when one is malformed.
  static std::optional<CronSpec> Parse(std::string_view minute, std::string_view hour,
                                       std::string_view mday, std::string_view month,
                                       std::string_view wday, std::string* error);

  // The first matching minute strictly after `after` (seconds since the epoch), or -1 if there
  // is none within five years (e.g. February 30th).
  int64_t NextAfter(int64_t after) const;
};

}  // namespace gearbox::core
