// Cross-language tests: our worker serving PHP (pecl gearman, on libgearman) and Perl
// (Gearman::Client) clients, PHP and Perl workers serving our client, against both servers;
// and the examples (C++ and the seed's PHP Hello World) run as a user would run them.
#include <gtest/gtest.h>

#include "helpers.h"

namespace gearbox::testing {
namespace {

std::string Script(const char* name) {
  return BinaryPath("source_dir") + "/tests/client/scripts/" + name;
}

WorkResult Reverse(Job& job) {
  return std::string(job.payload().rbegin(), job.payload().rend());
}

class InteropIT : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (BinaryFor(GetParam()).empty()) GTEST_SKIP() << "gearmand 1.1.20 is not installed";
    server_ = StartServer(GetParam());
    ASSERT_NE(server_, nullptr);
    addr_ = Address(*server_);
  }
  Client NewClient() {
    auto c = Client::Create(TestClientOptions(addr_));
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
};

TEST_P(InteropIT, OurWorkerServesPhpClients) {
  std::atomic<int> bg{0};
  auto w = StartWorker(addr_, {{"reverse", Reverse}, {"count_bg", [&](Job&) -> WorkResult {
                                                        ++bg;
                                                        return {};
                                                      }}});
  auto r = RunProcess({"php", Script("client.php"), addr_, "reverse", "Hello World!"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "!dlroW olleH");
  auto b = RunProcess({"php", Script("client.php"), addr_, "count_bg", "x", "background"});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out.rfind("H:", 0), 0u) << b.out;
  EXPECT_TRUE(Eventually([&] { return bg == 1; }));
}

TEST_P(InteropIT, OurWorkerServesPerlClients) {
  std::atomic<int> bg{0};
  auto w = StartWorker(addr_, {{"reverse", Reverse}, {"count_bg", [&](Job&) -> WorkResult {
                                                        ++bg;
                                                        return {};
                                                      }}});
  auto r = RunProcess({"perl", Script("client.pl"), addr_, "reverse", "Hello World!"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "!dlroW olleH");
  auto b = RunProcess({"perl", Script("client.pl"), addr_, "count_bg", "x", "background"});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(Eventually([&] { return bg == 1; }));
}

TEST_P(InteropIT, PhpWorkerServesOurClient) {
  auto php = Background::Start({"php", Script("worker.php"), addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "chatty") == 1; }))
      << php->Output();
  Client c = NewClient();
  auto r = c.Do("reverse", "Hello World!");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "!dlroW olleH");
  std::string data;
  uint32_t num = 0, den = 0;
  auto chatty = c.Do("chatty", std::string("a\0b", 3),
                     {.on_data = [&](std::string_view d) { data.append(d); },
                      .on_status =
                          [&](uint32_t n, uint32_t d) {
                            num = n;
                            den = d;
                          }});
  ASSERT_TRUE(chatty.ok()) << chatty.error().message();
  EXPECT_EQ(*chatty, std::string("php-done:a\0b", 12));
  EXPECT_EQ(data, "php-data");
  EXPECT_EQ(num, 3u);
  EXPECT_EQ(den, 4u);
  auto h = c.DoBackground("reverse", "bg");
  ASSERT_TRUE(h.ok());
}

TEST_P(InteropIT, PerlWorkerServesOurClient) {
  auto perl = Background::Start({"perl", Script("worker.pl"), addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "shout") == 1; }))
      << perl->Output();
  Client c = NewClient();
  auto r = c.Do("reverse", "Hello World!");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "!dlroW olleH");
  auto s = c.Do("shout", "hey");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(*s, "HEY!");
  // Many tasks at once through the Perl worker's plain GRAB_JOB loop.
  std::vector<Task> tasks;
  for (int i = 0; i < 50; ++i)
    tasks.push_back(*c.AddTask({.function = "shout", .payload = "p" + std::to_string(i)}));
  ASSERT_TRUE(c.RunTasks().ok());
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(tasks[i].result(), "P" + std::to_string(i) + "!");
}

std::string Name(const ::testing::TestParamInfo<Impl>& info) {
  return ImplName(info.param);
}
INSTANTIATE_TEST_SUITE_P(Servers, InteropIT, ::testing::Values(Impl::kOurs, Impl::kReference),
                         Name);

// ---- The examples, against our server --------------------------------------------------------

class ExamplesIT : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServer(Impl::kOurs);
    ASSERT_NE(server_, nullptr);
    addr_ = Address(*server_);
  }
  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
};

TEST_F(ExamplesIT, CppHelloWorldPrintsReversedGreeting) {
  auto worker = Background::Start({BinaryPath("reverse_worker"), addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 1; }))
      << worker->Output();
  auto r = RunProcess({BinaryPath("reverse_client"), addr_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "!dlroW olleH\n");
  // SIGTERM stops the worker cleanly.
  ::kill(worker->pid(), SIGTERM);
  EXPECT_EQ(worker->Wait(10s), std::optional<int>(0)) << worker->Output();
}

TEST_F(ExamplesIT, CppHelloWorldUsesGearmanServersFromTheEnvironment) {
  auto worker = Background::Start({BinaryPath("reverse_worker")}, {{"GEARMAN_SERVERS", addr_}});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 1; }))
      << worker->Output();
  auto r = RunProcess({BinaryPath("reverse_client")}, {.env = {{"GEARMAN_SERVERS", addr_}}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "!dlroW olleH\n");
}

TEST_F(ExamplesIT, PhpHelloWorldFromTheSlides) {
  std::string dir = BinaryPath("source_dir") + "/examples/php/";
  auto worker = Background::Start({"php", dir + "worker.php", addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 1; }))
      << worker->Output();
  auto r = RunProcess({"php", dir + "client.php", addr_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "!dlroW olleH\n");
}

TEST_F(ExamplesIT, MixedLanguageHelloWorld) {
  std::string dir = BinaryPath("source_dir") + "/examples/php/";
  {
    auto worker = Background::Start({BinaryPath("reverse_worker"), addr_});
    ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 1; }));
    auto r = RunProcess({"php", dir + "client.php", addr_});
    EXPECT_EQ(r.out, "!dlroW olleH\n") << r.err;
  }
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 0; }));
  auto worker = Background::Start({"php", dir + "worker.php", addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "reverse") == 1; }));
  auto r = RunProcess({BinaryPath("reverse_client"), addr_});
  EXPECT_EQ(r.out, "!dlroW olleH\n") << r.err;
}

TEST_F(ExamplesIT, BackgroundJobWithStatusPolling) {
  auto worker = Background::Start({BinaryPath("progress_worker"), addr_});
  ASSERT_TRUE(Eventually([&] { return WorkersFor(server_->port(), "count") == 1; }))
      << worker->Output();
  auto r = RunProcess({BinaryPath("progress_client"), addr_, "8"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("queued H:", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" on " + addr_ + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("progress "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/8\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 5), "done\n") << r.out;
}

TEST_F(ExamplesIT, ClientExampleReportsAnUnreachableServer) {
  int port = FreePort();
  auto r = RunProcess({BinaryPath("reverse_client"), "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace gearbox::testing
