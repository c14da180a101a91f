#include "interop_support.h"

#include <unistd.h>

#ifndef GEARBOX_INTEROP_SCRIPTS
#define GEARBOX_INTEROP_SCRIPTS "tests/interop/scripts"
#endif

namespace gearbox::testing::interop {

std::vector<Target> Targets() {
  std::vector<Target> t = {{"ours -t 1", Impl::kOurs, 1}, {"ours -t 4", Impl::kOurs, 4}};
  if (!ReferenceGearmand().empty()) t.push_back({"gearmand 1.1.20", Impl::kReference, 0});
  return t;
}

std::string Script(const std::string& name) {
  return std::string(GEARBOX_INTEROP_SCRIPTS) + "/" + name;
}

namespace {
bool Probe(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  return RunProcess(spec, 20s).exited_ok();
}
}  // namespace

bool HaveGearmanCli() {
  static const bool have =
      ::access("/usr/bin/gearman", X_OK) == 0 && ::access("/usr/bin/gearadmin", X_OK) == 0;
  return have;
}

bool HavePhpGearman() {
  static const bool have = Probe({"php", "-r", "exit(extension_loaded('gearman') ? 0 : 1);"});
  return have;
}

bool HavePerlGearman() {
  static const bool have = Probe({"perl", "-MGearman::Client", "-MGearman::Worker", "-e", "1"});
  return have;
}

void InteropTest::OnEachServer(const std::function<void(const Target&, ServerProcess&)>& scenario,
                               const std::vector<std::string>& extra) {
  for (const Target& t : Targets()) {
    SCOPED_TRACE("server: " + t.name);
    std::vector<std::string> args = {"--job-handle-prefix", std::string(kPrefix)};
    if (t.impl == Impl::kOurs) {
      args.push_back("-t");
      args.push_back(std::to_string(t.threads));
      args.push_back("--threads-exact");  // the threaded shape even with few CPUs
    }
    args.insert(args.end(), extra.begin(), extra.end());
    std::string err;
    auto server = ServerProcess::Start(BinaryFor(t.impl), args, &err);
    ASSERT_NE(server, nullptr) << err;
    scenario(t, *server);
  }
}

void InteropTest::ExpectSameOnEachServer(const std::function<std::string(ServerProcess&)>& scenario,
                                         const std::string& expected,
                                         const std::vector<std::string>& extra) {
  std::vector<std::pair<std::string, std::string>> seen;
  OnEachServer(
      [&](const Target& t, ServerProcess& s) {
        std::string got = scenario(s);
        EXPECT_EQ(got, expected);
        seen.emplace_back(t.name, got);
      },
      extra);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].second, seen[0].second)
        << seen[i].first << " and " << seen[0].first << " observed different results";
  }
}

std::vector<std::string> GearmanCmd(int port, std::vector<std::string> args) {
  std::vector<std::string> a = {"/usr/bin/gearman", "-h", "127.0.0.1", "-p", std::to_string(port)};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

std::vector<std::string> GearadminCmd(int port, std::vector<std::string> args) {
  std::vector<std::string> a = {"/usr/bin/gearadmin", "-h", "127.0.0.1", "-p",
                                std::to_string(port)};
  a.insert(a.end(), args.begin(), args.end());
  return a;
}

RunResult RunTool(std::vector<std::string> argv, std::string stdin_data,
                  std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.stdin_data = std::move(stdin_data);
  return RunProcess(spec, timeout);
}

std::unique_ptr<Child> Background(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  return Child::Start(spec);
}

std::string SubmitRaw(int port, Command cmd, std::string_view fn, std::string_view unique,
                      std::string_view data) {
  auto c = RawClient::Connect(port);
  if (!c) return "<refused>";
  c->Send(Q(cmd, {fn, unique, data}));
  auto d = ReadDecoded(*c);
  return d && d->command == Command::kJobCreated ? d->parts.at(0) : "<no JOB_CREATED>";
}

std::string AdminRawList(int port, std::string_view line) {
  auto c = RawClient::Connect(port);
  if (!c) return "<refused>";
  c->Send(std::string(line) + "\n");
  return ReadList(*c);
}

}  // namespace gearbox::testing::interop
