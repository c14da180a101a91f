// Helpers for the client, interop and tools tests: servers on a fixed port (for restarts),
// a worker running on its own thread, child processes with captured output, polling waits.
// Each object belongs to the test thread that created it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gearbox/gearbox.h"
#include "test_server.h"

namespace gearbox::testing {

using namespace std::chrono_literals;

// A server process on a port chosen by the test (so it can be killed and started again on the
// same port). Killed with SIGKILL on destruction.
class FixedServer {
 public:
  static std::unique_ptr<FixedServer> Start(Impl impl, int port, std::string* error = nullptr,
                                            const std::string& listen = "127.0.0.1");
  ~FixedServer();
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // SIGKILL and reap.
  void Kill();

 private:
  FixedServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
};

// Starts `impl` on a free port via the shared ServerProcess; fails the test if it cannot.
std::unique_ptr<ServerProcess> StartServer(Impl impl, const std::vector<std::string>& extra = {});
inline std::string Address(const ServerProcess& s) {
  return "127.0.0.1:" + std::to_string(s.port());
}

// Options for tests: no environment, short timeouts that still never fire on a healthy run.
ClientOptions TestClientOptions(const std::string& servers);
WorkerOptions TestWorkerOptions(const std::string& servers);

// A Worker running Run() on its own thread; stopped and joined on destruction.
class WorkerThread {
 public:
  explicit WorkerThread(Worker worker);
  ~WorkerThread();
  Worker& worker() { return worker_; }
  // Waits for Run() to return (after Stop(), max_jobs, idle timeout).
  std::optional<Expected<void>> Join(std::chrono::milliseconds timeout = 30s);
  void Stop() { worker_.Stop(); }

 private:
  struct Result {
    std::mutex mu;
    std::optional<Expected<void>> value;
  };
  Worker worker_;
  std::shared_ptr<Result> result_;
  std::thread thread_;
};

// Starts a worker on `servers` with the given functions and (unless told not to) waits until
// every server lists it. GEARBOX_TEST_LOG=1 in the environment prints the worker's log.
std::unique_ptr<WorkerThread> StartWorker(const std::string& servers,
                                          std::map<std::string, Handler> functions,
                                          WorkerOptions options = {}, bool wait_registered = true);

// Polls `pred` every 10 ms until it holds or `timeout` passes; returns its last value.
bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 20s);

// Runs a command line admin command against a server; returns the raw reply ("" on error).
std::string Admin(int port, const std::string& command);
// The number of jobs `status` reports for a function (-1 if the function is not listed).
int QueuedJobs(int port, const std::string& function);
// Workers registered for a function according to `status` (-1 if not listed).
int WorkersFor(int port, const std::string& function);

// A child process with captured output.
struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};
struct ProcessOptions {
  std::string stdin_data{};
  std::map<std::string, std::string> env{};  // added to (or, with an empty value, removed from)
  std::chrono::milliseconds timeout = 30s;
  std::string cwd{};
};
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// A child process left running (a worker script); killed on destruction.
class Background {
 public:
  static std::unique_ptr<Background> Start(const std::vector<std::string>& argv,
                                           const std::map<std::string, std::string>& env = {});
  ~Background();
  pid_t pid() const { return pid_; }
  // Waits for exit; returns the exit code, or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Reads what the child wrote to stdout and stderr so far (after Wait or Kill: all of it).
  std::string Output();
  void Kill();

 private:
  Background() = default;
  pid_t pid_ = -1;
  std::string out_path_;
  bool reaped_ = false;
};

// The path of a built binary given by the build (see CMakeLists.txt).
std::string BinaryPath(const char* name);

}  // namespace gearbox::testing
