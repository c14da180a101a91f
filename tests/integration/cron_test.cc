// SUBMIT_JOB_SCHED (docs/protocol.md §5): recurring background jobs, ours only (gearmand 1.1.20
// rejects type 35; see malformed_test.cc). The firing test waits for the next minute boundary.
#include <thread>

#include "integ_support.h"

namespace gearbox::testing::integ {
namespace {

class CronTest : public ServerTest {};

std::string Sched(std::string_view fn, std::string_view unique, std::string_view min,
                  std::string_view hour, std::string_view mday, std::string_view mon,
                  std::string_view wday, std::string_view data) {
  return Q(Command::kSubmitJobSched, {fn, unique, min, hour, mday, mon, wday, data});
}

TEST_P(CronTest, ScheduleIsAnsweredWithAHandleThatGetStatusReportsKnownNotRunning) {
  auto c = Connect();
  c->Send(Sched("f", "u", "*/5", "1-3", "1,15", "*", "1-5", "x"));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "1", "0", "0", "0"}));
  // Handles share one space with jobs.
  c->Send(Q(Command::kSubmitJobBg, {"f", "", "x"}));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(2)}));
  // A schedule is not a runnable job.
  auto w = Connect();
  w->Send(Q(Command::kCanDo, {"f"}));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kJobAssign, {H(2), "f", "x"})));
  EXPECT_PACKET(w, (w->Send(Q(Command::kGrabJob)), R(Command::kNoJob)));
}

TEST_P(CronTest, EmptyFieldsMeanEveryValue) {
  auto c = Connect();
  c->Send(Sched("f", "", "", "", "", "", "", "x"));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  c->Send(Sched("f", "", "0", "0", "1", "1", "7", "sunday-as-7"));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(2)}));
}

TEST_P(CronTest, MalformedScheduleFieldsAreRefused) {
  auto c = Connect();
  const std::vector<std::vector<std::string>> bad = {
      {"60", "*", "*", "*", "*"}, {"*", "24", "*", "*", "*"},  {"*", "*", "0", "*", "*"},
      {"*", "*", "32", "*", "*"}, {"*", "*", "*", "13", "*"},  {"*", "*", "*", "*", "8"},
      {"x", "*", "*", "*", "*"},  {"*/0", "*", "*", "*", "*"}, {"5-1", "*", "*", "*", "*"},
      {"1,", "*", "*", "*", "*"}, {"-1", "*", "*", "*", "*"},
  };
  for (const auto& f : bad) {
    c->Send(Sched("f", "", f[0], f[1], f[2], f[3], f[4], "x"));
    auto d = ReadDecoded(*c);
    ASSERT_TRUE(d.has_value());
    std::string fields = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + f[4];
    EXPECT_EQ(d->command, Command::kError) << fields;
    if (d->command == Command::kError) {
      EXPECT_EQ(d->parts.at(0), "INVALID_ARGUMENT") << fields;
      EXPECT_EQ(d->parts.at(1).rfind("Bad schedule: ", 0), 0u) << fields << ": " << d->parts[1];
    }
  }
  Sync(*c);
  EXPECT_EQ(AdminList("show jobs"), ".\n");
}

TEST_P(CronTest, CancelJobRemovesTheSchedule) {
  auto c = Connect();
  c->Send(Sched("f", "u", "*", "*", "*", "*", "*", "x"));
  EXPECT_PACKET(c, R(Command::kJobCreated, {H(1)}));
  EXPECT_EQ(AdminLine("cancel job " + H(1)), "OK\r\n");
  c->Send(Q(Command::kGetStatus, {H(1)}));
  EXPECT_PACKET(c, R(Command::kStatusRes, {H(1), "0", "0", "0", "0"}));
  EXPECT_EQ(AdminLine("cancel job " + H(1)), "ERR UNKNOWN_JOB\r\n");
}

INSTANTIATE_TEST_SUITE_P(Servers, CronTest, ::testing::ValuesIn(OurShapes()), ShapeName);

// One test for both threading shapes at once, so the suite waits for one minute boundary only.
TEST(CronFiringTest, EveryMinuteScheduleSubmitsABackgroundJobAtTheNextMinute) {
  struct Side {
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<RawClient> worker;
    std::unique_ptr<RawClient> client;
  };
  std::vector<Side> sides;
  for (int threads : {1, 4}) {
    Side s;
    std::string err;
    s.server = ServerProcess::Start(
        OurGearmand(), {"--job-handle-prefix", std::string(kPrefix), "-t", std::to_string(threads),
                        "--threads-exact"},
        &err);
    ASSERT_NE(s.server, nullptr) << err;
    s.worker = RawClient::Connect(s.server->port());
    s.client = RawClient::Connect(s.server->port());
    ASSERT_TRUE(s.worker && s.client);
    s.worker->Send(Q(Command::kCanDo, {"tick"}) + Q(Command::kPreSleep));
    Sync(*s.worker);
    s.client->Send(Sched("tick", "cron-u", "*", "*", "*", "*", "*", "payload"));
    ASSERT_PACKET(s.client, R(Command::kJobCreated, {H(1)}));
    sides.push_back(std::move(s));
  }
  for (auto& s : sides) {
    // The next minute boundary is at most 60 s away.
    ASSERT_TRUE(NextPacketIs(*s.worker, R(Command::kNoop), 75s));
    s.worker->Send(Q(Command::kGrabJobUniq));
    ASSERT_PACKET(s.worker, R(Command::kJobAssignUniq, {H(2), "tick", "cron-u", "payload"}));
    s.worker->Send(Q(Command::kWorkComplete, {H(2), "done"}));
    Sync(*s.worker);
    // The schedule itself stays.
    s.client->Send(Q(Command::kGetStatus, {H(1)}));
    EXPECT_PACKET(s.client, R(Command::kStatusRes, {H(1), "1", "0", "0", "0"}));
    EXPECT_TRUE(Silent(*s.client));  // its jobs are background jobs
  }
}

}  // namespace
}  // namespace gearbox::testing::integ
