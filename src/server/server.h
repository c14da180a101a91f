// Server: wires listeners, event loops, the job core and the store together and runs them.
// Two shapes (docs/design/threading.md):
//   one loop  (-t 0 on <= 4 CPUs, or -t 1): one thread accepts, reads, runs the core, writes;
//   threaded  (-t N, N >= 2): the main thread accepts and handles signals, N I/O threads own the
//             sockets, and one core thread owns all job state; they exchange batches.
// Created and run by the main thread; RequestShutdown() may be called from any thread.
#pragma once

#include <memory>

#include "base/clock.h"
#include "base/status.h"
#include "core/job_core.h"
#include "core/store.h"
#include "server/listener.h"
#include "server/options.h"

namespace gearbox::server {

class Runtime;

class Server {
 public:
  explicit Server(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening sockets (before daemonizing, so errors reach the terminal).
  Status Bind();
  // Builds the loops and threads and replays the store; call after fork/setuid.
  Status Start();
  // Runs until shutdown; returns the process exit code.
  int Run();
  int bound_port() const { return listener_.bound_port(); }
  // Number of I/O threads actually used (0 = one loop does everything).
  int io_threads() const { return io_threads_; }

 private:
  ServerOptions options_;
  Listener listener_;
  SystemClock clock_;
  std::unique_ptr<core::Store> store_;
  std::unique_ptr<Runtime> runtime_;
  int io_threads_ = 0;
};

// Logging backend (spdlog sinks): file, stderr, syslog or none; Reopen() on SIGHUP.
void InitLogging(const ServerOptions& options);
void ReopenLog();

}  // namespace gearbox::server
