// Integration tests of the client and worker library against real servers: ours and Debian's
// gearmand 1.1.20 (each test runs against both). No mocks; waits poll for events with generous
// deadlines and never assert on durations.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "helpers.h"

namespace gearbox::testing {
namespace {

// A one-shot gate a handler can wait on.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = 30s) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, timeout, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

WorkResult Reverse(Job& job) {
  return std::string(job.payload().rbegin(), job.payload().rend());
}
WorkResult EchoBack(Job& job) {
  return job.payload();
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng() & 0xff);
  return s;
}

class ClientIT : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (BinaryFor(GetParam()).empty()) GTEST_SKIP() << "gearmand 1.1.20 is not installed";
    server_ = StartServer(GetParam());
    ASSERT_NE(server_, nullptr);
    addr_ = Address(*server_);
    port_ = server_->port();
  }

  Client NewClient(ClientOptions o = {}) {
    if (o.servers.empty()) {
      bool exceptions = o.exceptions;
      std::string id = o.client_id;
      o = TestClientOptions(addr_);
      o.exceptions = exceptions;
      o.client_id = id;
    }
    auto c = Client::Create(o);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return std::move(*c);
  }

  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
  int port_ = 0;
};

// ---- Foreground and background jobs ----------------------------------------------------------

TEST_P(ClientIT, DoReturnsTheWorkersResultInAllPriorities) {
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  Client c = NewClient();
  for (Priority p : {Priority::kHigh, Priority::kNormal, Priority::kLow}) {
    auto r = c.Do("reverse", "Hello World!", {.priority = p});
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(*r, "!dlroW olleH");
  }
}

TEST_P(ClientIT, ForegroundPrioritiesAreSentAndHonoured) {
  Client c = NewClient();
  std::vector<std::string> order;
  std::mutex mu;
  for (auto [p, name] : {std::pair{Priority::kLow, "low"}, std::pair{Priority::kNormal, "normal"},
                         std::pair{Priority::kHigh, "high"}}) {
    ASSERT_TRUE(c.AddTask({.function = "prio", .payload = name, .priority = p}).ok());
  }
  // Written but not runnable yet: no worker.
  ASSERT_TRUE(Eventually([&] {
    (void)c.RunTasks(20ms);
    return Admin(port_, "prioritystatus").find("prio\t1\t1\t1\t0\n") != std::string::npos;
  })) << Admin(port_, "prioritystatus");
  auto w = StartWorker(addr_, {{"prio", [&](Job& j) -> WorkResult {
                                  std::lock_guard<std::mutex> l(mu);
                                  order.push_back(j.payload());
                                  return j.payload();
                                }}});
  ASSERT_TRUE(c.RunTasks().ok());
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "normal", "low"}));
}

TEST_P(ClientIT, BackgroundJobsInThreePrioritiesReturnHandlesAndRunHighFirst) {
  Client c = NewClient();
  std::set<std::string> handles;
  for (auto [p, name] : {std::pair{Priority::kLow, "low"}, std::pair{Priority::kNormal, "normal"},
                         std::pair{Priority::kHigh, "high"}}) {
    auto h = c.DoBackground("bgprio", name, {.priority = p});
    ASSERT_TRUE(h.ok()) << h.error().message();
    EXPECT_FALSE(h->handle.empty());
    EXPECT_EQ(h->server, addr_);
    handles.insert(h->handle);
  }
  EXPECT_EQ(handles.size(), 3u);
  EXPECT_NE(Admin(port_, "prioritystatus").find("bgprio\t1\t1\t1\t0\n"), std::string::npos);
  std::vector<std::string> order;
  std::mutex mu;
  auto w = StartWorker(addr_, {{"bgprio", [&](Job& j) -> WorkResult {
                                  std::lock_guard<std::mutex> l(mu);
                                  order.push_back(j.payload());
                                  return {};
                                }}});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return order.size() == 3;
  }));
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(order, (std::vector<std::string>{"high", "normal", "low"}));
}

TEST_P(ClientIT, BackgroundStatusByHandleFollowsTheJob) {
  Client c = NewClient();
  auto h = c.DoBackground("progress", "p");
  ASSERT_TRUE(h.ok()) << h.error().message();
  auto queued = c.GetStatus(*h);
  ASSERT_TRUE(queued.ok()) << queued.error().message();
  EXPECT_TRUE(queued->known);
  EXPECT_FALSE(queued->running);
  auto by_string = c.GetStatus(h->handle);
  ASSERT_TRUE(by_string.ok());
  EXPECT_TRUE(by_string->known);
  EXPECT_EQ(by_string->server, addr_);

  Gate gate;
  auto w = StartWorker(addr_, {{"progress", [&](Job& j) -> WorkResult {
                                  j.SendStatus(1, 4);
                                  gate.Wait();
                                  return {};
                                }}});
  ASSERT_TRUE(Eventually([&] {
    auto s = c.GetStatus(*h);
    return s.ok() && s->known && s->running && s->numerator == 1 && s->denominator == 4;
  }));
  gate.Open();
  ASSERT_TRUE(Eventually([&] {
    auto s = c.GetStatus(*h);
    return s.ok() && !s->known;
  }));
}

TEST_P(ClientIT, StatusByUniqueFollowsTheJob) {
  Client c = NewClient();
  std::string key = "status-" + NewUuid().substr(0, 8);
  auto h = c.DoBackground("byunique", "p", {.unique = key});
  ASSERT_TRUE(h.ok()) << h.error().message();
  auto s = c.GetStatusByUnique(key);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_TRUE(s->known);
  EXPECT_FALSE(s->running);
  auto other = c.GetStatusByUnique("no-such-key");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->known);
  auto w = StartWorker(addr_, {{"byunique", EchoBack}});
  ASSERT_TRUE(Eventually([&] {
    auto st = c.GetStatusByUnique(key);
    return st.ok() && !st->known;
  }));
}

TEST_P(ClientIT, UnknownHandleIsNotKnown) {
  Client c = NewClient();
  auto s = c.GetStatus("H:nowhere:424242");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_FALSE(s->known);
  EXPECT_FALSE(s->running);
}

TEST_P(ClientIT, EpochJobsWaitForTheirTime) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto w = StartWorker(addr_, {{"epoch", [&](Job& j) -> WorkResult {
                                  std::lock_guard<std::mutex> l(mu);
                                  seen.push_back(j.payload());
                                  return {};
                                }}});
  Client c = NewClient();
  auto past = c.DoAt("epoch", "past", std::chrono::system_clock::now() - 10s);
  ASSERT_TRUE(past.ok()) << past.error().message();
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return std::find(seen.begin(), seen.end(), "past") != seen.end();
  }));
  auto future = c.DoAt("epoch", "future", std::chrono::system_clock::now() + 1h);
  ASSERT_TRUE(future.ok()) << future.error().message();
  // The worker takes later work but not the job that is not due.
  auto now = c.Do("epoch", "now");
  ASSERT_TRUE(now.ok()) << now.error().message();
  auto s = c.GetStatus(*future);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->known);
  EXPECT_FALSE(s->running);
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "future"), 0);
}

TEST_P(ClientIT, ReduceJobsCarryTheReducerToAGrabAllWorker) {
  auto wk = Worker::Create(TestWorkerOptions(addr_));
  ASSERT_TRUE(wk.ok());
  std::atomic<int> bg{0};
  ASSERT_TRUE(wk->Register("mapper",
                           [&](Job& j) -> WorkResult {
                             if (j.payload() == "bg") ++bg;
                             return j.reducer() + ":" + j.payload();
                           },
                           {.reducer = true})
                  .ok());
  WorkerThread w(std::move(*wk));
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port_, "mapper") == 1; }));
  Client c = NewClient();
  auto r = c.Reduce("mapper", "summer", "1,2,3");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "summer:1,2,3");
  auto h = c.ReduceBackground("mapper", "summer", "bg");
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_TRUE(Eventually([&] { return bg == 1; }));
  // A plain job to the same worker: GRAB_JOB_ALL returns it without a reducer.
  auto plain = c.Do("mapper", "x");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, ":x");
}

// ---- The task API: events, errors ------------------------------------------------------------

WorkResult Chatty(Job& j) {
  j.SendData("d1");
  j.SendWarning("w1");
  j.SendStatus(1, 2);
  j.SendData(
      std::string("d\0"
                  "2",
                  3));
  return "done";
}

TEST_P(ClientIT, TaskEventsArriveInOrder) {
  auto w = StartWorker(addr_, {{"chatty", Chatty}});
  Client c = NewClient();
  std::vector<std::string> ev;
  TaskHandlers h;
  h.on_created = [&](const Task& t) {
    ev.push_back("created:" + std::string(t.handle().empty() ? "" : "H"));
  };
  h.on_data = [&](const Task&, std::string_view d) { ev.push_back("data:" + std::string(d)); };
  h.on_warning = [&](const Task&, std::string_view d) {
    ev.push_back("warning:" + std::string(d));
  };
  h.on_status = [&](const Task&, uint32_t n, uint32_t d) {
    ev.push_back("status:" + std::to_string(n) + "/" + std::to_string(d));
  };
  h.on_complete = [&](const Task&, std::string_view d) {
    ev.push_back("complete:" + std::string(d));
  };
  h.on_fail = [&](const Task&, const Error& e) { ev.push_back("fail:" + e.message()); };
  auto t = c.AddTask({.function = "chatty", .payload = "x", .handlers = h});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->state(), TaskState::kPending);
  ASSERT_TRUE(c.RunTasks().ok());
  EXPECT_EQ(ev, (std::vector<std::string>{"created:H", "data:d1", "warning:w1", "status:1/2",
                                          std::string("data:d\0"
                                                      "2",
                                                      8),
                                          "complete:done"}));
  EXPECT_TRUE(t->ok());
  EXPECT_EQ(t->result(), "done");
  EXPECT_EQ(t->numerator(), 1u);
  EXPECT_EQ(c.pending_tasks(), 0u);
}

TEST_P(ClientIT, DoCollectsDataUnlessStreamed) {
  auto w = StartWorker(addr_, {{"chatty", Chatty}});
  Client c = NewClient();
  auto whole = c.Do("chatty", "x");
  ASSERT_TRUE(whole.ok()) << whole.error().message();
  EXPECT_EQ(*whole, std::string("d1d\0"
                                "2done",
                                9));
  std::string streamed;
  std::vector<std::string> warnings;
  uint32_t num = 0;
  auto part = c.Do("chatty", "x",
                   {.on_data = [&](std::string_view d) { streamed.append(d); },
                    .on_warning = [&](std::string_view d) { warnings.emplace_back(d); },
                    .on_status = [&](uint32_t n, uint32_t) { num = n; }});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, "done");
  EXPECT_EQ(streamed, std::string("d1d\0"
                                  "2",
                                  5));
  EXPECT_EQ(warnings, std::vector<std::string>{"w1"});
  EXPECT_EQ(num, 1u);
}

TEST_P(ClientIT, WorkFailAndExceptionAreTypedErrors) {
  auto w = StartWorker(
      addr_, {{"fails", [](Job&) { return WorkResult::Fail(); }},
              {"raises", [](Job&) { return WorkResult::Exception("boom"); }},
              {"throws", [](Job&) -> WorkResult { throw std::runtime_error("bad input"); }}});
  Client c = NewClient();
  auto f = c.Do("fails", "x");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code(), Errc::kJobFailed);
  EXPECT_NE(f.error().message().find("fails"), std::string::npos);
  auto e = c.Do("raises", "x");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), Errc::kJobException);
  EXPECT_EQ(e.error().detail(), "boom");
  auto t = c.Do("throws", "x");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), Errc::kJobException);
  EXPECT_EQ(t.error().detail(), "bad input");
  EXPECT_THROW((void)c.Do("fails", "x").value(), Exception);
  // Without the exceptions option the server downgrades an exception to a failure.
  Client plain = NewClient({.exceptions = false});
  auto d = plain.Do("raises", "x");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Errc::kJobFailed);
  // The client keeps working after failures.
  auto ok = c.Echo("still here");
  ASSERT_TRUE(ok.ok());
}

TEST_P(ClientIT, ThousandsOfTasksPipelineOverOneConnection) {
  WorkerOptions wo;
  wo.concurrency = 8;
  auto w = StartWorker(addr_, {{"reverse", Reverse}}, wo);
  Client c = NewClient({.client_id = "pipelining-client"});
  constexpr int kTasks = 5000;
  std::vector<Task> tasks;
  int completed = 0;
  for (int i = 0; i < kTasks; ++i) {
    auto t = c.AddTask(
        {.function = "reverse",
         .payload = "job-" + std::to_string(i),
         .handlers = {.on_complete = [&](const Task&, std::string_view) { ++completed; }}});
    ASSERT_TRUE(t.ok());
    tasks.push_back(*t);
  }
  EXPECT_EQ(c.pending_tasks(), static_cast<size_t>(kTasks));
  auto r = c.RunTasks();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(completed, kTasks);
  for (int i = 0; i < kTasks; ++i) {
    std::string p = "job-" + std::to_string(i);
    ASSERT_EQ(tasks[i].result(), std::string(p.rbegin(), p.rend())) << i;
  }
  // All of it went over one connection.
  std::istringstream workers(Admin(port_, "workers"));
  int lines = 0;
  for (std::string line; std::getline(workers, line);) {
    if (line.find(" pipelining-client :") != std::string::npos) ++lines;
  }
  EXPECT_EQ(lines, 1);
}

TEST_P(ClientIT, LargeEmptyAndBinaryPayloadsRoundTrip) {
  auto w = StartWorker(addr_, {{"echo", EchoBack}});
  Client c = NewClient();
  std::string big = RandomBytes(10 * 1024 * 1024, 7);
  auto r = c.Do("echo", big);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(*r == big);
  auto empty = c.Do("echo", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  std::string nuls("\0a\0\0b\0", 6);
  auto bin = c.Do("echo", nuls);
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(*bin, nuls);
  auto e = c.Echo(nuls);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, nuls);
  auto e_empty = c.Echo("");
  ASSERT_TRUE(e_empty.ok());
  EXPECT_EQ(*e_empty, "");
  auto h = c.DoBackground("echo", big);
  ASSERT_TRUE(h.ok()) << h.error().message();
}

// ---- Unique keys -----------------------------------------------------------------------------

TEST_P(ClientIT, SameUniqueCoalescesIntoOneJob) {
  Gate gate;
  std::atomic<int> runs{0};
  auto w = StartWorker(addr_, {{"slowrev", [&](Job& j) -> WorkResult {
                                  ++runs;
                                  gate.Wait();
                                  return Reverse(j);
                                }}});
  Client c = NewClient();
  int created = 0;
  TaskHandlers h{.on_created = [&](const Task&) { ++created; }};
  auto a =
      c.AddTask({.function = "slowrev", .payload = "abc", .unique = "same-key", .handlers = h});
  auto b =
      c.AddTask({.function = "slowrev", .payload = "abc", .unique = "same-key", .handlers = h});
  auto p1 = c.AddTask(
      {.function = "slowrev", .payload = "xyz", .unique = Unique::FromPayload(), .handlers = h});
  auto p2 = c.AddTask(
      {.function = "slowrev", .payload = "xyz", .unique = Unique::FromPayload(), .handlers = h});
  ASSERT_TRUE(a.ok() && b.ok() && p1.ok() && p2.ok());
  ASSERT_TRUE(Eventually([&] {
    (void)c.RunTasks(20ms);
    return created == 4;
  }));
  EXPECT_EQ(a->handle(), b->handle());
  EXPECT_EQ(p1->handle(), p2->handle());
  EXPECT_NE(a->handle(), p1->handle());
  EXPECT_EQ(p1->unique(), PayloadKey("xyz"));
  gate.Open();
  ASSERT_TRUE(c.RunTasks().ok());
  EXPECT_EQ(a->result(), "cba");
  EXPECT_EQ(b->result(), "cba");
  EXPECT_EQ(p2->result(), "zyx");
  EXPECT_EQ(runs, 2);
}

TEST_P(ClientIT, BackgroundJobsGetGeneratedUniquesAndWorkersSeeThem) {
  Client c = NewClient();
  auto t = c.AddTask({.function = "uq", .payload = "p", .background = true});
  auto e =
      c.AddTask({.function = "uq", .payload = "q", .unique = "explicit-1", .background = true});
  ASSERT_TRUE(t.ok() && e.ok());
  ASSERT_TRUE(c.RunTasks().ok());
  EXPECT_EQ(t->unique().size(), 36u);
  std::string listed = Admin(port_, "show unique jobs");
  EXPECT_NE(listed.find(t->unique()), std::string::npos) << listed;
  EXPECT_NE(listed.find("explicit-1"), std::string::npos) << listed;
  std::mutex mu;
  std::set<std::string> seen;
  auto w = StartWorker(addr_, {{"uq", [&](Job& j) -> WorkResult {
                                  std::lock_guard<std::mutex> l(mu);
                                  seen.insert(j.unique());
                                  return {};
                                }}});
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return seen.size() == 2;
  }));
  EXPECT_TRUE(seen.count(t->unique()));
  EXPECT_TRUE(seen.count("explicit-1"));
}

// ---- Worker features -------------------------------------------------------------------------

TEST_P(ClientIT, ClientIdsAreShownByTheServer) {
  WorkerOptions wo;
  wo.client_id = "worker-id-1";
  auto w = StartWorker(addr_, {{"reverse", Reverse}}, wo);
  Client c = NewClient({.client_id = "client-id-1"});
  ASSERT_TRUE(c.Echo("hi").ok());
  std::string workers = Admin(port_, "workers");
  EXPECT_NE(workers.find(" worker-id-1 : reverse"), std::string::npos) << workers;
  EXPECT_NE(workers.find(" client-id-1 :"), std::string::npos) << workers;
}

TEST_P(ClientIT, PlainGrabWorksWithoutUniques) {
  WorkerOptions wo;
  wo.grab = WorkerOptions::Grab::kPlain;
  std::mutex mu;
  std::string unique_seen = "unset";
  auto w = StartWorker(addr_,
                       {{"plain",
                         [&](Job& j) -> WorkResult {
                           std::lock_guard<std::mutex> l(mu);
                           unique_seen = j.unique();
                           return Reverse(j);
                         }}},
                       wo);
  Client c = NewClient();
  auto r = c.Do("plain", "abc", {.unique = "u1"});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "cba");
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(unique_seen, "");
}

TEST_P(ClientIT, WorkerSeesHandleUniqueAndServer) {
  std::mutex mu;
  std::string seen;
  auto w = StartWorker(addr_, {{"who", [&](Job& j) -> WorkResult {
                                  std::lock_guard<std::mutex> l(mu);
                                  seen = j.function() + "|" + j.unique() + "|" + j.server();
                                  return j.handle();
                                }}});
  Client c = NewClient();
  auto t = c.AddTask({.function = "who", .payload = "", .unique = "u-who"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(c.RunTasks().ok());
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(seen, "who|u-who|" + addr_);
  EXPECT_EQ(t->result(), t->handle());
}

TEST_P(ClientIT, HandlersRunInParallelUpToTheConcurrency) {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  WorkerOptions wo;
  wo.concurrency = 4;
  auto w = StartWorker(addr_,
                       {{"meet",
                         [&](Job&) -> WorkResult {
                           std::unique_lock<std::mutex> l(mu);
                           ++arrived;
                           cv.notify_all();
                           bool all = cv.wait_for(l, 30s, [&] { return arrived >= 4; });
                           return all ? "together" : "alone";
                         }}},
                       wo);
  Client c = NewClient();
  std::vector<Task> tasks;
  for (int i = 0; i < 4; ++i)
    tasks.push_back(*c.AddTask({.function = "meet", .payload = "x"}));
  ASSERT_TRUE(c.RunTasks().ok());
  for (auto& t : tasks)
    EXPECT_EQ(t.result(), "together");
}

TEST_P(ClientIT, RetryHandsTheJobBackToTheServer) {
  std::atomic<int> attempts{0};
  auto w = StartWorker(addr_, {{"flaky", [&](Job& j) -> WorkResult {
                                  if (++attempts == 1) return WorkResult::Retry();
                                  return Reverse(j);
                                }}});
  Client c = NewClient();
  auto r = c.Do("flaky", "abc");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "cba");
  EXPECT_EQ(attempts, 2);
}

TEST_P(ClientIT, CanDoTimeoutLetsAnotherWorkerTakeAStuckJob) {
  Gate second_started;
  std::atomic<int> calls{0};
  auto handler = [&](Job&) -> WorkResult {
    if (++calls == 1) {
      second_started.Wait();  // stuck until the server has handed the job to someone else
      return "first";
    }
    second_started.Open();
    return "second";
  };
  std::vector<std::unique_ptr<WorkerThread>> workers;
  for (int i = 0; i < 2; ++i) {
    auto wk = Worker::Create(TestWorkerOptions(addr_));
    ASSERT_TRUE(wk.ok());
    ASSERT_TRUE(wk->Register("stuck", handler, {.timeout = 1000ms}).ok());
    workers.push_back(std::make_unique<WorkerThread>(std::move(*wk)));
  }
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port_, "stuck") == 2; }));
  Client c = NewClient();
  auto r = c.Do("stuck", "x");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "second");
  EXPECT_EQ(calls, 2);
}

TEST_P(ClientIT, GracefulStopFinishesTheRunningJobAndTakesNoMore) {
  Gate gate;
  std::atomic<bool> entered{false};
  auto w = StartWorker(addr_, {{"long", [&](Job& j) -> WorkResult {
                                  entered = true;
                                  gate.Wait();
                                  return j.stop_requested() ? "finished after stop" : "no stop";
                                }}});
  Client c = NewClient();
  auto t = c.AddTask({.function = "long", .payload = "1"});
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(Eventually([&] {
    (void)c.RunTasks(20ms);
    return entered.load();
  }));
  w->Stop();
  ASSERT_TRUE(c.DoBackground("long", "2").ok());
  gate.Open();
  auto joined = w->Join();
  ASSERT_TRUE(joined.has_value());
  EXPECT_TRUE(joined->ok());
  ASSERT_TRUE(c.RunTasks().ok());
  EXPECT_EQ(t->result(), "finished after stop");
  EXPECT_EQ(QueuedJobs(port_, "long"), 1);  // the second job was left for others
}

TEST_P(ClientIT, MaxJobsAndIdleTimeoutEndRun) {
  std::atomic<int> runs{0};
  WorkerOptions wo;
  wo.max_jobs = 3;
  Client c = NewClient();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c.DoBackground("counted", "x").ok());
  auto w = StartWorker(addr_,
                       {{"counted",
                         [&](Job&) -> WorkResult {
                           ++runs;
                           return {};
                         }}},
                       wo, /*wait_registered=*/false);
  auto joined = w->Join();
  ASSERT_TRUE(joined.has_value());
  EXPECT_TRUE(joined->ok());
  EXPECT_EQ(runs, 3);
  EXPECT_TRUE(Eventually([&] { return QueuedJobs(port_, "counted") == 2; }));

  WorkerOptions idle;
  idle.idle_timeout = 100ms;
  auto w2 = StartWorker(addr_, {{"never", Reverse}}, idle, /*wait_registered=*/false);
  auto j2 = w2->Join();
  ASSERT_TRUE(j2.has_value());
  ASSERT_FALSE(j2->ok());
  EXPECT_EQ(j2->error().code(), Errc::kTimeout);
}

TEST_P(ClientIT, FunctionsCanBeAddedAndRemovedWhileRunning) {
  auto w = StartWorker(addr_, {{"first", Reverse}});
  ASSERT_TRUE(w->worker().Register("second", EchoBack).ok());
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port_, "second") == 1; }));
  Client c = NewClient();
  auto r = c.Do("second", "abc");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "abc");
  ASSERT_TRUE(w->worker().Unregister("first").ok());
  EXPECT_TRUE(Eventually([&] { return WorkersFor(port_, "first") == 0; }));
  EXPECT_FALSE(w->worker().Unregister("first").ok());
}

// ---- Errors and deadlines --------------------------------------------------------------------

TEST_P(ClientIT, DeadlineWithoutWorkerIsATimeoutAndTheClientRecovers) {
  auto w = StartWorker(addr_, {{"reverse", Reverse}});
  Client c = NewClient();
  auto r = c.Do("nobody-home", "x", {.timeout = 200ms});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimeout);
  // The abandoned job's replies are still consumed in order; new calls work.
  for (int i = 0; i < 3; ++i) {
    auto ok = c.Do("reverse", "ab");
    ASSERT_TRUE(ok.ok()) << ok.error().message();
    EXPECT_EQ(*ok, "ba");
  }
}

TEST_P(ClientIT, InterruptEndsABlockingCall) {
  Client c = NewClient();
  std::thread t([&] {
    Eventually([&] { return QueuedJobs(port_, "nobody-home") == 1; });
    c.Interrupt();
  });
  auto r = c.Do("nobody-home", "x");
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kStopped);
}

TEST_P(ClientIT, QueueFullIsAServerError) {
  Client c = NewClient();
  // maxqueue applies only to a function the server already knows.
  ASSERT_TRUE(c.DoBackground("limited", "a").ok());
  EXPECT_EQ(Admin(port_, "maxqueue limited 1"), "OK\r\n");
  auto r = c.DoBackground("limited", "b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kServerError);
  EXPECT_EQ(r.error().detail(), "QUEUE_ERROR");
  EXPECT_EQ(r.error().server(), addr_);
  EXPECT_TRUE(c.Echo("x").ok());
}

// ---- Restarts, failover, placement -----------------------------------------------------------

TEST_P(ClientIT, WorkerReregistersAfterTheServerRestarts) {
  int port = FreePort();
  auto srv = FixedServer::Start(GetParam(), port);
  ASSERT_NE(srv, nullptr);
  auto w = StartWorker(srv->address(), {{"reverse", Reverse}});
  Client c = NewClient(TestClientOptions(srv->address()));
  ASSERT_EQ(c.Do("reverse", "ab").value_or("error"), "ba");
  srv->Kill();
  srv = FixedServer::Start(GetParam(), port);
  ASSERT_NE(srv, nullptr);
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port, "reverse") == 1; }));
  auto r = c.Do("reverse", "abc");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "cba");
}

// A "reverse" job submitted just after the server at `killed` died. The kernel may keep a dead
// server's established connections open for a few milliseconds after the process is gone
// (seen with io_uring, whose teardown is deferred); a request written into such a connection
// legitimately fails with kConnectionLost, since it was sent. Anything else is a failure, and
// the retry must succeed by failing over.
Expected<std::string> DoAfterKill(Client& c, std::string_view payload, const CallOptions& o,
                                  const std::string& killed) {
  auto r = c.Do("reverse", payload, o);
  if (!r.ok() && r.error().code() == Errc::kConnectionLost && r.error().server() == killed) {
    r = c.Do("reverse", payload, o);
  }
  return r;
}

TEST_P(ClientIT, ClientFailsOverWhenAServerIsDown) {
  auto other = StartServer(GetParam());
  ASSERT_NE(other, nullptr);
  std::string both = addr_ + "," + Address(*other);
  auto w = StartWorker(both, {{"reverse", Reverse}});
  Client c = NewClient(TestClientOptions(both));
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(c.Do("reverse", "ab").ok());
  server_->Signal(SIGKILL);
  ASSERT_TRUE(server_->WaitExit(10s).has_value());
  for (int i = 0; i < 10; ++i) {
    std::string key = "k" + std::to_string(i);  // some of these are owned by the dead server
    auto r = DoAfterKill(c, "abc", {.unique = key}, addr_);
    ASSERT_TRUE(r.ok()) << i << ": " << r.error().message();
    EXPECT_EQ(*r, "cba");
    auto plain = DoAfterKill(c, "xy", {}, addr_);
    ASSERT_TRUE(plain.ok()) << plain.error().message();
  }
}

TEST_P(ClientIT, ServerKilledMidRunFailsOnlyItsJobsAndWorkersComeBack) {
  int port_a = FreePort();
  int port_b = FreePort();
  auto a = FixedServer::Start(GetParam(), port_a);
  auto b = FixedServer::Start(GetParam(), port_b);
  ASSERT_TRUE(a && b);
  std::string both = a->address() + "," + b->address();
  WorkerOptions wo;
  wo.concurrency = 2;
  auto w = StartWorker(both, {{"reverse", Reverse}}, wo);
  Client c = NewClient(TestClientOptions(both));
  constexpr int kTasks = 2000;
  int completed = 0, failed = 0;
  bool killed = false;
  std::vector<std::string> fail_codes;
  for (int i = 0; i < kTasks; ++i) {
    auto t = c.AddTask({.function = "reverse",
                        .payload = std::to_string(i),
                        .handlers = {.on_complete =
                                         [&](const Task&, std::string_view) {
                                           if (++completed == 200 && !killed) {
                                             killed = true;
                                             a->Kill();
                                           }
                                         },
                                     .on_fail =
                                         [&](const Task&, const Error& e) {
                                           ++failed;
                                           fail_codes.emplace_back(ErrcName(e.code()));
                                         }}});
    ASSERT_TRUE(t.ok());
  }
  auto r = c.RunTasks();
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(killed);
  EXPECT_EQ(completed + failed, kTasks);
  EXPECT_GT(completed, kTasks / 2);  // everything not on the dead server went through
  for (auto& code : fail_codes)
    EXPECT_EQ(code, "connection_lost");
  // New work goes to the live server...
  for (int i = 0; i < 20; ++i) {
    auto ok = DoAfterKill(c, "ab", {.unique = "after-" + std::to_string(i)}, a->address());
    ASSERT_TRUE(ok.ok()) << ok.error().message();
  }
  // ...and once the dead one is back, the worker registers there again and it serves jobs.
  a = FixedServer::Start(GetParam(), port_a);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port_a, "reverse") == 1; }));
  Client direct = NewClient(TestClientOptions(a->address()));
  auto again = direct.Do("reverse", "xyz");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(*again, "zyx");
}

TEST_P(ClientIT, UniqueKeysArePlacedByConsistentHashing) {
  auto s2 = StartServer(GetParam());
  auto s3 = StartServer(GetParam());
  ASSERT_TRUE(s2 && s3);
  std::vector<int> ports = {port_, s2->port(), s3->port()};
  std::string list = addr_ + "," + Address(*s2) + "," + Address(*s3);
  std::string reversed = Address(*s3) + "," + Address(*s2) + "," + addr_;
  Client c = NewClient(TestClientOptions(list));
  Client c2 = NewClient(TestClientOptions(reversed));
  std::map<int, int> expected;
  for (int i = 0; i < 300; ++i) {
    std::string key = "placed-" + std::to_string(i);
    const ServerAddress& owner = c.ServerForUnique(key);
    EXPECT_EQ(owner, c2.ServerForUnique(key)) << key;
    ++expected[owner.port];
    ASSERT_TRUE(
        c.AddTask({.function = "hashed", .payload = "x", .unique = key, .background = true}).ok());
  }
  ASSERT_TRUE(c.RunTasks().ok());
  for (int p : ports) {
    EXPECT_GT(expected[p], 30) << "port " << p;
    EXPECT_EQ(QueuedJobs(p, "hashed"), expected[p]) << "port " << p;
  }
  // Status by unique finds each job wherever it is.
  auto st = c2.GetStatusByUnique("placed-7");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->known);
  EXPECT_EQ(st->server, c.ServerForUnique("placed-7").ToString());
}

std::string Name(const ::testing::TestParamInfo<Impl>& info) {
  return ImplName(info.param);
}
INSTANTIATE_TEST_SUITE_P(Servers, ClientIT, ::testing::Values(Impl::kOurs, Impl::kReference), Name);

// ---- Without a server ------------------------------------------------------------------------

TEST(ClientNoServer, RefusedConnectionIsAnActionableError) {
  int port = FreePort();
  auto c = Client::Create(TestClientOptions("127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(c.ok());
  auto r = c->Do("f", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kConnectFailed);
  EXPECT_NE(r.error().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("refused"), std::string::npos) << r.error().message();
}

TEST(ClientNoServer, BackoffSkipsADeadServerUntilItExpires) {
  int port = FreePort();
  ClientOptions o = TestClientOptions("127.0.0.1:" + std::to_string(port));
  o.reconnect_backoff_min = 1h;
  o.reconnect_backoff_max = 1h;
  auto c = Client::Create(o);
  ASSERT_TRUE(c.ok());
  ASSERT_FALSE(c->Do("f", "x").ok());
  // Even once a server listens there, the client does not try before the backoff ends.
  auto srv = FixedServer::Start(Impl::kOurs, port);
  ASSERT_NE(srv, nullptr);
  auto r = c->Echo("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kConnectFailed);
  EXPECT_NE(r.error().message().find("next attempt in"), std::string::npos) << r.error().message();
  // A client without that history connects at once.
  auto fresh = Client::Create(TestClientOptions(srv->address()));
  EXPECT_TRUE(fresh->Echo("x").ok());
}

TEST(ClientNoServer, Ipv6AddressesInBrackets) {
  int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  if (probe >= 0) ::close(probe);
  if (!v6) GTEST_SKIP() << "no IPv6 loopback here";
  for (Impl impl : {Impl::kOurs, Impl::kReference}) {
    if (BinaryFor(impl).empty()) continue;
    int port = FreePort();
    auto srv = FixedServer::Start(impl, port, nullptr, "::1");
    ASSERT_NE(srv, nullptr) << ImplName(impl);
    std::string addr = "[::1]:" + std::to_string(port);
    auto w = StartWorker(addr, {{"reverse", Reverse}}, {}, /*wait_registered=*/false);
    auto c = Client::Create(TestClientOptions(addr));
    ASSERT_TRUE(c.ok());
    auto r = c->Do("reverse", "v6");
    ASSERT_TRUE(r.ok()) << ImplName(impl) << ": " << r.error().message();
    EXPECT_EQ(*r, "6v");
    auto h = c->DoBackground("parked", "x");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->server, addr);
  }
}

TEST(ClientNoServer, WorkerConnectReportsUnreachableServers) {
  int port = FreePort();
  WorkerOptions o = TestWorkerOptions("127.0.0.1:" + std::to_string(port));
  auto w = Worker::Create(o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Register("f", Reverse).ok());
  auto r = w->Connect();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kConnectFailed);
  EXPECT_NE(r.error().message().find(std::to_string(port)), std::string::npos);
}

TEST(ClientNoServer, WorkerRunKeepsRetryingUntilAServerAppears) {
  int port = FreePort();
  std::vector<std::string> log;
  std::mutex mu;
  WorkerOptions o = TestWorkerOptions("127.0.0.1:" + std::to_string(port));
  o.log = [&](std::string_view m) {
    std::lock_guard<std::mutex> l(mu);
    log.emplace_back(m);
  };
  auto w = Worker::Create(o);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Register("reverse", Reverse).ok());
  WorkerThread t(std::move(*w));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return log.size() >= 2;
  }));
  auto srv = FixedServer::Start(Impl::kOurs, port);
  ASSERT_NE(srv, nullptr);
  ASSERT_TRUE(Eventually([&] { return WorkersFor(port, "reverse") == 1; }));
  auto c = Client::Create(TestClientOptions(srv->address()));
  auto r = c->Do("reverse", "abc");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "cba");
}

}  // namespace
}  // namespace gearbox::testing
