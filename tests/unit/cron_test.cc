// Specification tests for CronSpec (core/cron.h): cron(8) field syntax and NextAfter() in the
// process's local time zone, which each test pins with TZ.
#include "core/cron.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "tz_guard.h"

namespace gearbox::core {
namespace {

int64_t Utc(int y, int mon, int d, int h = 0, int mi = 0, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Fmt(int64_t t) {
  if (t < 0) return "never";
  time_t tt = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

CronSpec Spec(const char* mi, const char* h, const char* md, const char* mo, const char* wd) {
  std::string err;
  std::optional<CronSpec> s = CronSpec::Parse(mi, h, md, mo, wd, &err);
  EXPECT_TRUE(s.has_value()) << err;
  return s.value_or(CronSpec{});
}

std::string ParseError(const char* mi, const char* h, const char* md, const char* mo,
                       const char* wd) {
  std::string err;
  std::optional<CronSpec> s = CronSpec::Parse(mi, h, md, mo, wd, &err);
  return s.has_value() ? "parsed" : err;
}

template <size_t N>
std::string Bits(const std::bitset<N>& b) {
  std::string s;
  for (size_t i = 0; i < N; ++i) {
    if (!b.test(i)) continue;
    if (!s.empty()) s += ',';
    s += std::to_string(i);
  }
  return s;
}

class CronSpecTest : public ::testing::Test {
 protected:
  unit::TzGuard tz_{"UTC"};
};

// ---------------------------------------------------------------------------------------------
// Parsing

TEST_F(CronSpecTest, StarAndEmptyFieldsMatchEverything) {
  for (const char* f : {"*", ""}) {
    CronSpec s = Spec(f, f, f, f, f);
    EXPECT_EQ(s.minutes.count(), 60u);
    EXPECT_EQ(s.hours.count(), 24u);
    EXPECT_EQ(Bits(s.mdays), Bits(std::bitset<32>().set().reset(0)));
    EXPECT_EQ(s.months.count(), 12u);
    EXPECT_FALSE(s.months.test(0));
    EXPECT_EQ(s.wdays.count(), 7u);
    EXPECT_TRUE(s.mday_star);
    EXPECT_TRUE(s.wday_star);
  }
}

TEST_F(CronSpecTest, ParsesNumbersRangesStepsAndLists) {
  EXPECT_EQ(Bits(Spec("5", "*", "*", "*", "*").minutes), "5");
  EXPECT_EQ(Bits(Spec("10-13", "*", "*", "*", "*").minutes), "10,11,12,13");
  EXPECT_EQ(Bits(Spec("*/15", "*", "*", "*", "*").minutes), "0,15,30,45");
  EXPECT_EQ(Bits(Spec("10-20/5", "*", "*", "*", "*").minutes), "10,15,20");
  EXPECT_EQ(Bits(Spec("1,5,10-12", "*", "*", "*", "*").minutes), "1,5,10,11,12");
  EXPECT_EQ(Bits(Spec("0,59", "*", "*", "*", "*").minutes), "0,59");
  EXPECT_EQ(Bits(Spec("*", "*/6", "*", "*", "*").hours), "0,6,12,18");
  EXPECT_EQ(Bits(Spec("*", "23", "*", "*", "*").hours), "23");
  EXPECT_EQ(Bits(Spec("*", "*", "1,31", "*", "*").mdays), "1,31");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*/3", "*").months), "1,4,7,10");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "12", "*").months), "12");
}

TEST_F(CronSpecTest, DayOfWeekSevenIsSunday) {
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*", "7").wdays), "0");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*", "0").wdays), "0");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*", "5-7").wdays), "0,5,6");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*", "1-5").wdays), "1,2,3,4,5");
  EXPECT_EQ(Bits(Spec("*", "*", "*", "*", "*/2").wdays), "0,2,4,6");
}

TEST_F(CronSpecTest, RestrictedDayFieldsAreNotStars) {
  CronSpec s = Spec("0", "0", "13", "*", "5");
  EXPECT_FALSE(s.mday_star);
  EXPECT_FALSE(s.wday_star);
  CronSpec t = Spec("0", "0", "*", "*", "1");
  EXPECT_TRUE(t.mday_star);
  EXPECT_FALSE(t.wday_star);
}

TEST_F(CronSpecTest, RejectsOutOfRangeValuesNamingTheField) {
  EXPECT_EQ(ParseError("60", "*", "*", "*", "*"), "bad minute field");
  EXPECT_EQ(ParseError("*", "24", "*", "*", "*"), "bad hour field");
  EXPECT_EQ(ParseError("*", "*", "0", "*", "*"), "bad day-of-month field");
  EXPECT_EQ(ParseError("*", "*", "32", "*", "*"), "bad day-of-month field");
  EXPECT_EQ(ParseError("*", "*", "*", "0", "*"), "bad month field");
  EXPECT_EQ(ParseError("*", "*", "*", "13", "*"), "bad month field");
  EXPECT_EQ(ParseError("*", "*", "*", "*", "8"), "bad day-of-week field");
}

TEST_F(CronSpecTest, RejectsMalformedSyntax) {
  for (const char* f : {"-1", "a", "1-", "-5", "5-1", "*/0", "*/x", "*/", "1,,2", ",", ",1", " 1",
                        "**", "1-2-3", "1/2/3", "+1", "0x1", "1 ", "99999999999"}) {
    EXPECT_EQ(ParseError(f, "*", "*", "*", "*"), "bad minute field") << '"' << f << '"';
  }
}

TEST_F(CronSpecTest, RejectsTrailingCommaInAList) {
  // cron(8) rejects "1,"; a list item must follow every comma.
  EXPECT_EQ(ParseError("1,", "*", "*", "*", "*"), "bad minute field");
  EXPECT_EQ(ParseError("*", "*", "*", "*", "1,2,"), "bad day-of-week field");
}

// ---------------------------------------------------------------------------------------------
// NextAfter (TZ=UTC)

TEST_F(CronSpecTest, EveryMinuteFiresAtTheNextWholeMinuteStrictlyAfter) {
  CronSpec s = Spec("*", "*", "*", "*", "*");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 1, 1, 0, 0, 0))), "2024-01-01 00:01:00");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 1, 1, 0, 0, 30))), "2024-01-01 00:01:00");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 1, 1, 0, 0, 59))), "2024-01-01 00:01:00");
}

TEST_F(CronSpecTest, HourlyAndDailyRollOverIntoTheNextHourAndDay) {
  EXPECT_EQ(Fmt(Spec("0", "*", "*", "*", "*").NextAfter(Utc(2024, 1, 1, 0, 0))),
            "2024-01-01 01:00:00");
  EXPECT_EQ(Fmt(Spec("*/20", "*", "*", "*", "*").NextAfter(Utc(2024, 1, 1, 0, 50))),
            "2024-01-01 01:00:00");
  EXPECT_EQ(Fmt(Spec("30", "2", "*", "*", "*").NextAfter(Utc(2024, 1, 1, 3, 0))),
            "2024-01-02 02:30:00");
  EXPECT_EQ(Fmt(Spec("30", "2", "*", "*", "*").NextAfter(Utc(2024, 1, 1, 2, 29, 59))),
            "2024-01-01 02:30:00");
}

TEST_F(CronSpecTest, RollsOverMonthsAndYears) {
  EXPECT_EQ(Fmt(Spec("0", "0", "1", "*", "*").NextAfter(Utc(2024, 1, 31, 12, 0))),
            "2024-02-01 00:00:00");
  EXPECT_EQ(Fmt(Spec("0", "0", "1", "1", "*").NextAfter(Utc(2024, 6, 1))), "2025-01-01 00:00:00");
  EXPECT_EQ(Fmt(Spec("59", "23", "31", "12", "*").NextAfter(Utc(2024, 12, 31, 23, 58, 30))),
            "2024-12-31 23:59:00");
  EXPECT_EQ(Fmt(Spec("0", "0", "*", "*", "*").NextAfter(Utc(2024, 12, 31, 23, 59, 59))),
            "2025-01-01 00:00:00");
}

TEST_F(CronSpecTest, SkipsMonthsWithoutTheDay) {
  EXPECT_EQ(Fmt(Spec("0", "0", "31", "*", "*").NextAfter(Utc(2024, 4, 1))), "2024-05-31 00:00:00");
  EXPECT_EQ(Fmt(Spec("0", "0", "30", "*", "*").NextAfter(Utc(2024, 1, 30, 0, 1))),
            "2024-03-30 00:00:00");
}

TEST_F(CronSpecTest, FebruaryTwentyNinthFiresOnlyInLeapYears) {
  CronSpec s = Spec("0", "0", "29", "2", "*");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2023, 1, 1))), "2024-02-29 00:00:00");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 3, 1))), "2028-02-29 00:00:00");
}

TEST_F(CronSpecTest, DayMatchesIfEitherRestrictedDayFieldMatches) {
  // The 13th, or any Friday. 2024-09-01 is a Sunday.
  CronSpec s = Spec("0", "0", "13", "*", "5");
  int64_t t = s.NextAfter(Utc(2024, 9, 1));
  EXPECT_EQ(Fmt(t), "2024-09-06 00:00:00");  // Friday
  t = s.NextAfter(t);
  EXPECT_EQ(Fmt(t), "2024-09-13 00:00:00");  // Friday the 13th
  t = s.NextAfter(t);
  EXPECT_EQ(Fmt(t), "2024-09-20 00:00:00");                               // Friday
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 10, 5))), "2024-10-11 00:00:00");   // Fri before the 13th
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 10, 12))), "2024-10-13 00:00:00");  // Sunday the 13th
}

TEST_F(CronSpecTest, OnlyTheRestrictedDayFieldCountsWhenTheOtherIsStar) {
  // Mondays only; 2024-09-01 is a Sunday.
  EXPECT_EQ(Fmt(Spec("0", "0", "*", "*", "1").NextAfter(Utc(2024, 9, 1))), "2024-09-02 00:00:00");
  // The 13th only.
  EXPECT_EQ(Fmt(Spec("0", "0", "13", "*", "*").NextAfter(Utc(2024, 9, 1))), "2024-09-13 00:00:00");
  // Sunday written as 7.
  EXPECT_EQ(Fmt(Spec("0", "12", "*", "*", "7").NextAfter(Utc(2024, 9, 2))), "2024-09-08 12:00:00");
}

TEST_F(CronSpecTest, ScheduleThatNeverFiresReturnsMinusOne) {
  EXPECT_EQ(Spec("0", "0", "30", "2", "*").NextAfter(Utc(2024, 1, 1)), -1);
  EXPECT_EQ(Spec("0", "0", "31", "4", "*").NextAfter(Utc(2024, 1, 1)), -1);
  EXPECT_EQ(Spec("0", "0", "31", "2,4,6,9,11", "*").NextAfter(Utc(2024, 1, 1)), -1);
}

TEST_F(CronSpecTest, ConsecutiveFiringsOfAStepScheduleAreEvenlySpaced) {
  CronSpec s = Spec("*/5", "*", "*", "*", "*");
  int64_t t = Utc(2024, 2, 28, 23, 41, 7);
  int64_t prev = s.NextAfter(t);
  EXPECT_EQ(Fmt(prev), "2024-02-28 23:45:00");
  for (int i = 0; i < 500; ++i) {
    int64_t next = s.NextAfter(prev);
    ASSERT_EQ(next - prev, 300) << Fmt(prev);
    prev = next;
  }
}

TEST(CronSpecLocalTime, FiresInTheServersLocalTimeZone) {
  unit::TzGuard tz("EST5");  // UTC-5, no DST, needs no tzdata
  CronSpec s = Spec("0", "12", "*", "*", "*");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 1, 1, 0, 0))), "2024-01-01 17:00:00");
  EXPECT_EQ(Fmt(s.NextAfter(Utc(2024, 1, 1, 17, 0))), "2024-01-02 17:00:00");
}

}  // namespace
}  // namespace gearbox::core
