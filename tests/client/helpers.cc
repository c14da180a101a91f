#include "helpers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gearbox::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::vector<int> PortsOf(const std::string& servers) {
  std::vector<int> ports;
  auto list = ParseServerList(servers);
  if (list.ok()) {
    for (auto& a : *list)
      ports.push_back(a.port);
  }
  return ports;
}

void ApplyEnv(const std::map<std::string, std::string>& env) {
  for (const auto& [k, v] : env) {
    if (v.empty()) {
      ::unsetenv(k.c_str());
    } else {
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
}

}  // namespace

// ---- Servers ---------------------------------------------------------------------------------

std::unique_ptr<FixedServer> FixedServer::Start(Impl impl, int port, std::string* error,
                                                const std::string& listen) {
  std::string binary = BinaryFor(impl);
  std::unique_ptr<FixedServer> s(new FixedServer());
  s->port_ = port;
  char tmpl[] = "/tmp/gearbox-client-test-log-XXXXXX";
  int lfd = ::mkstemp(tmpl);
  if (lfd >= 0) ::close(lfd);
  s->log_ = tmpl;
  // The port may still be held for a moment by the server we just killed: retry.
  auto deadline = SteadyClock::now() + 10s;
  while (SteadyClock::now() < deadline) {
    std::vector<std::string> args = {binary, "-L",   listen, "-p", std::to_string(port),
                                     "-l",   s->log_};
    pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execv(binary.c_str(), argv.data());
      std::_Exit(127);
    }
    s->pid_ = pid;
    auto ready_by = SteadyClock::now() + 5s;
    while (SteadyClock::now() < ready_by) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        s->pid_ = -1;
        break;
      }
      auto a = AdminClient::Connect(ServerAddress{listen, static_cast<uint16_t>(port)}, 500ms);
      if (a.ok()) {
        auto v = a->Execute("version", AdminClient::Reply::kLine, 500ms);
        if (v.ok() && v->rfind("OK ", 0) == 0) return s;
      }
      std::this_thread::sleep_for(20ms);
    }
    if (s->pid_ > 0) s->Kill();
    std::this_thread::sleep_for(100ms);
  }
  if (error != nullptr) *error = "could not start " + binary + " on port " + std::to_string(port);
  return nullptr;
}

FixedServer::~FixedServer() {
  Kill();
  if (!log_.empty()) ::unlink(log_.c_str());
}

void FixedServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::unique_ptr<ServerProcess> StartServer(Impl impl, const std::vector<std::string>& extra) {
  std::string error;
  auto s = ServerProcess::Start(BinaryFor(impl), extra, &error);
  EXPECT_NE(s, nullptr) << "cannot start " << ImplName(impl) << " server: " << error;
  return s;
}

ClientOptions TestClientOptions(const std::string& servers) {
  ClientOptions o;
  o.servers = servers;
  o.read_environment = false;
  o.connect_timeout = 5s;
  o.io_timeout = 20s;
  o.timeout = 60s;
  return o;
}

WorkerOptions TestWorkerOptions(const std::string& servers) {
  WorkerOptions o;
  o.servers = servers;
  o.read_environment = false;
  o.reconnect_backoff_min = 20ms;
  o.reconnect_backoff_max = 200ms;
  return o;
}

// ---- Workers ---------------------------------------------------------------------------------

WorkerThread::WorkerThread(Worker worker)
    : worker_(std::move(worker)), result_(std::make_shared<Result>()) {
  thread_ = std::thread([this, result = result_] {
    auto r = worker_.Run();
    std::lock_guard<std::mutex> l(result->mu);
    result->value = std::move(r);
  });
}

WorkerThread::~WorkerThread() {
  worker_.Stop();
  if (thread_.joinable()) thread_.join();
}

std::optional<Expected<void>> WorkerThread::Join(std::chrono::milliseconds timeout) {
  bool done = Eventually(
      [&] {
        std::lock_guard<std::mutex> l(result_->mu);
        return result_->value.has_value();
      },
      timeout);
  if (!done) return std::nullopt;
  if (thread_.joinable()) thread_.join();
  return result_->value;
}

std::unique_ptr<WorkerThread> StartWorker(const std::string& servers,
                                          std::map<std::string, Handler> functions,
                                          WorkerOptions options, bool wait_registered) {
  if (options.servers.empty()) {
    options.servers = servers;
    options.read_environment = false;
    options.reconnect_backoff_min = 20ms;
    options.reconnect_backoff_max = 200ms;
  }
  if (!options.log && std::getenv("GEARBOX_TEST_LOG") != nullptr) {
    options.log = [](std::string_view m) {
      std::fprintf(stderr, "[worker] %.*s\n", static_cast<int>(m.size()), m.data());
    };
  }
  auto w = Worker::Create(options);
  EXPECT_TRUE(w.ok()) << w.error().message();
  if (!w.ok()) return nullptr;
  std::vector<std::string> names;
  for (auto& [name, handler] : functions) {
    names.push_back(name);
    auto r = w->Register(name, std::move(handler));
    EXPECT_TRUE(r.ok()) << r.error().message();
  }
  auto t = std::make_unique<WorkerThread>(std::move(*w));
  // Registered once every server lists the worker for every function.
  if (!wait_registered) return t;
  for (int port : PortsOf(options.servers)) {
    for (auto& name : names) {
      EXPECT_TRUE(Eventually([&] { return WorkersFor(port, name) >= 1; }))
          << "worker for '" << name << "' never showed up on port " << port;
    }
  }
  return t;
}

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

// ---- Admin -----------------------------------------------------------------------------------

std::string Admin(int port, const std::string& command) {
  auto a = AdminClient::Connect(ServerAddress{"127.0.0.1", static_cast<uint16_t>(port)}, 5s);
  if (!a.ok()) return "";
  auto r = a->Execute(command, AdminClient::ReplyFor(command), 5s);
  return r.ok() ? *r : "";
}

namespace {
std::optional<std::vector<std::string>> StatusLine(int port, const std::string& function) {
  std::istringstream in(Admin(port, "status"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ls(line);
    std::string col;
    while (std::getline(ls, col, '\t'))
      cols.push_back(col);
    if (cols.size() == 4 && cols[0] == function) return cols;
  }
  return std::nullopt;
}
}  // namespace

int QueuedJobs(int port, const std::string& function) {
  auto cols = StatusLine(port, function);
  return cols ? std::atoi((*cols)[1].c_str()) : -1;
}

int WorkersFor(int port, const std::string& function) {
  auto cols = StatusLine(port, function);
  return cols ? std::atoi((*cols)[3].c_str()) : -1;
}

// ---- Processes -------------------------------------------------------------------------------

ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessResult res;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    res.err = "pipe failed";
    return res;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ApplyEnv(options.env);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) std::_Exit(126);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  int wfd = in[1];
  ::fcntl(wfd, F_SETFL, O_NONBLOCK);
  size_t written = 0;
  if (options.stdin_data.empty()) {
    ::close(wfd);
    wfd = -1;
  }
  auto deadline = SteadyClock::now() + options.timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0},
                     {wfd, POLLOUT, 0}};
    int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (wfd >= 0 && fds[2].revents != 0) {
      ssize_t w =
          ::write(wfd, options.stdin_data.data() + written, options.stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN) || written == options.stdin_data.size()) {
        ::close(wfd);
        wfd = -1;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && fds[i].revents != 0) {
        ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
        if (r > 0) {
          (i == 0 ? res.out : res.err).append(buf, static_cast<size_t>(r));
        } else {
          (i == 0 ? out_open : err_open) = false;
        }
      }
    }
  }
  if (wfd >= 0) ::close(wfd);
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!res.timed_out && WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  return res;
}

std::unique_ptr<Background> Background::Start(const std::vector<std::string>& argv,
                                              const std::map<std::string, std::string>& env) {
  std::unique_ptr<Background> b(new Background());
  char tmpl[] = "/tmp/gearbox-bg-out-XXXXXX";
  int fd = ::mkstemp(tmpl);
  b->out_path_ = tmpl;
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::setpgid(0, 0);
    ApplyEnv(env);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  ::close(fd);
  b->pid_ = pid;
  return b;
}

Background::~Background() {
  Kill();
  ::unlink(out_path_.c_str());
}

std::optional<int> Background::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return 0;
  auto deadline = SteadyClock::now() + timeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (SteadyClock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::string Background::Output() {
  std::ifstream in(out_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Background::Kill() {
  if (reaped_ || pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  ::kill(pid_, SIGTERM);
  if (!Wait(3s)) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    Wait(5s);
  }
  reaped_ = true;
}

std::string BinaryPath(const char* name) {
  static const std::map<std::string, std::string> kPaths = {
      {"gearman", GEARBOX_BIN_GEARMAN},
      {"gearadmin", GEARBOX_BIN_GEARADMIN},
      {"reverse_worker", GEARBOX_BIN_REVERSE_WORKER},
      {"reverse_client", GEARBOX_BIN_REVERSE_CLIENT},
      {"progress_worker", GEARBOX_BIN_PROGRESS_WORKER},
      {"progress_client", GEARBOX_BIN_PROGRESS_CLIENT},
      {"source_dir", GEARBOX_SOURCE_DIR},
  };
  auto it = kPaths.find(name);
  return it == kPaths.end() ? std::string() : it->second;
}

}  // namespace gearbox::testing
