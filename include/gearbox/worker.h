// gearbox::Worker: registers functions with Gearman servers and runs their jobs.
//
// Ownership and threads: a Worker is owned by its creator. Run() is called on one thread (the
// worker's I/O thread) and returns after Stop(). Register(), Unregister() and Stop() are
// thread-safe and may be called from any thread, also while Run() runs; Stop() is also
// async-signal-safe. Handlers run on a pool of `concurrency` handler threads owned by Run(),
// never on the I/O thread; a Job object belongs to the handler call that received it, and its
// Send* methods may be called only from that call.
//
// Protocol: the worker connects to every server, registers each function (CAN_DO, or
// CAN_DO_TIMEOUT in milliseconds when a timeout is set) and then, per server, grabs jobs
// (GRAB_JOB_UNIQ by default, GRAB_JOB_ALL when a reduce function is registered) while it has
// a free handler slot; NO_JOB is followed by PRE_SLEEP, and NOOP wakes it. A server that goes
// away is reconnected with backoff and the functions are registered again.
//
// Errors: setup errors are Expected values (gearbox/error.h). Run() does not fail because a
// server is unreachable: it keeps reconnecting (each event goes to WorkerOptions::log) until
// Stop(). Connect() gives callers that want it a fail-fast check up front.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gearbox/error.h"
#include "gearbox/servers.h"

namespace gearbox {

struct WorkerOptions {
  // "host[:port],..." (see ParseServerList). Empty and no GEARMAN_SERVERS: localhost:4730.
  std::string servers{};
  bool read_environment = true;
  // Jobs run in parallel (handler threads). At most this many jobs are held at once.
  size_t concurrency = 1;
  // Stop after this many jobs have been taken (0: no limit); Run() returns once they finish.
  uint64_t max_jobs = 0;
  std::chrono::milliseconds connect_timeout{5000};
  // A server that stays silent this long after an ECHO_REQ heartbeat is considered dead.
  std::chrono::milliseconds io_timeout{30000};
  // Idle connections are checked with ECHO_REQ this often (0: never). This detects servers
  // that vanished without closing the TCP connection.
  std::chrono::milliseconds heartbeat{std::chrono::seconds(30)};
  std::chrono::milliseconds reconnect_backoff_min{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
  // Run() returns (with kTimeout) when no job has arrived for this long (nullopt: never).
  std::optional<std::chrono::milliseconds> idle_timeout{};
  // Sent as SET_CLIENT_ID on every connection when not empty.
  std::string client_id{};
  enum class Grab {
    kAuto,   // GRAB_JOB_UNIQ; GRAB_JOB_ALL when a function is registered with reducer = true
    kPlain,  // GRAB_JOB (for servers without the UNIQ variant, e.g. Perl's Gearman::Server)
    kUniq,   // GRAB_JOB_UNIQ
    kAll,    // GRAB_JOB_ALL
  };
  Grab grab = Grab::kAuto;
  LogFn log{};
};

struct FunctionOptions {
  // Sent as CAN_DO_TIMEOUT (milliseconds; gearmand raises values below 1 s to 1 s): the server
  // takes the job back from a worker that holds it longer.
  std::optional<std::chrono::milliseconds> timeout{};
  // The function is a reduce step: grab with GRAB_JOB_ALL so Job::reducer() is filled in.
  bool reducer = false;
};

namespace internal {
struct JobImpl;
}

// One job handed to a handler. Valid only during that handler call.
class Job {
 public:
  const std::string& function() const;
  const std::string& handle() const;
  const std::string& unique() const;   // empty when the server did not send one (GRAB_JOB)
  const std::string& reducer() const;  // GRAB_JOB_ALL jobs submitted as reduce jobs
  const std::string& payload() const;
  // The address of the server the job came from.
  const std::string& server() const;

  // Intermediate updates, sent in call order before the job's final packet. They return
  // false (and send nothing) once the job's server connection has been lost.
  bool SendData(std::string_view data);
  bool SendWarning(std::string_view warning);
  bool SendStatus(uint32_t numerator, uint32_t denominator);

  // Stop() was called: finish or abandon the job soon.
  bool stop_requested() const;
  // The connection the job came from is gone; the server has requeued the job and will ignore
  // whatever this handler sends.
  bool connection_lost() const;

 private:
  friend struct internal::JobImpl;
  explicit Job(internal::JobImpl* impl) : impl_(impl) {}
  internal::JobImpl* impl_;
};

// How a handler ends its job.
class WorkResult {
 public:
  enum class Kind {
    kComplete,   // WORK_COMPLETE with data()
    kFail,       // WORK_FAIL
    kException,  // WORK_EXCEPTION with data() (clients without exceptions see WORK_FAIL)
    kRetry,      // give the job back: the worker drops this server connection (the Gearman
                 // convention), so the server requeues the job; the worker reconnects at once.
                 // Other jobs from the same connection are allowed to finish first.
  };

  WorkResult() = default;                                       // complete, empty result
  WorkResult(std::string result) : data_(std::move(result)) {}  // NOLINT: complete
  WorkResult(std::string_view result) : data_(result) {}        // NOLINT: complete
  WorkResult(const char* result) : data_(result) {}             // NOLINT: complete

  static WorkResult Complete(std::string result = {}) { return WorkResult(std::move(result)); }
  static WorkResult Fail() { return WorkResult(Kind::kFail, {}); }
  static WorkResult Exception(std::string message) {
    return WorkResult(Kind::kException, std::move(message));
  }
  static WorkResult Retry() { return WorkResult(Kind::kRetry, {}); }

  Kind kind() const { return kind_; }
  const std::string& data() const { return data_; }

 private:
  WorkResult(Kind kind, std::string data) : kind_(kind), data_(std::move(data)) {}
  Kind kind_ = Kind::kComplete;
  std::string data_;
};

// A handler returns the job's outcome. A handler that throws sends WORK_EXCEPTION with the
// exception's what().
using Handler = std::function<WorkResult(Job& job)>;

class Worker {
 public:
  static Expected<Worker> Create(WorkerOptions options = {});

  Worker(Worker&&) noexcept;
  Worker& operator=(Worker&&) noexcept;
  // Stops and waits for Run() to return if it is running on another thread.
  ~Worker();

  // Adds (or replaces) a function. While Run() runs, every connected server is told at once.
  Expected<void> Register(std::string function, Handler handler, FunctionOptions options = {});
  // Removes a function (CANT_DO). Note: gearmand requeues jobs of that function that this
  // worker is running at that moment.
  Expected<void> Unregister(std::string_view function);

  // Optional: connects to every server and registers the functions, returning an error if no
  // server can be reached within connect_timeout. Run() does this itself otherwise.
  Expected<void> Connect();

  // Serves jobs until Stop() (returns ok), max_jobs jobs have been run (ok), or idle_timeout
  // passed without a job (kTimeout). Running jobs are always finished and their results sent
  // before Run() returns. Errors: no function registered; Run() already running.
  Expected<void> Run();

  // Graceful stop: no new jobs are taken; Run() returns once running jobs have finished.
  void Stop();

  // Jobs whose handler finished, since Create().
  uint64_t jobs_done() const;

 private:
  friend struct internal::JobImpl;
  struct Impl;
  explicit Worker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gearbox
