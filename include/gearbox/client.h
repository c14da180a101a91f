// gearbox::Client: submits jobs to Gearman servers and waits for their results.
//
// Ownership and threads: a Client is owned by its creator and is NOT thread-safe: call its
// methods from one thread at a time (use one Client per thread, they are cheap). The one
// exception is Interrupt(), which any thread (or a signal handler) may call. Every callback
// (TaskHandlers, CallOptions::on_*) runs on the thread that is inside a Client call; callbacks
// may call AddTask() but no blocking method (those return kInvalidArgument when nested).
// Tasks are handles to state owned jointly by the Client and the Task; read them on the
// Client's thread.
//
// I/O: non-blocking sockets and poll(); nothing runs in the background. Requests are written
// and replies read only while a Client call is running (Do, RunTasks, Wait, GetStatus, ...).
// One connection per server, opened on first use and reused; requests are pipelined.
//
// Errors: see gearbox/error.h. A job that fails is an error value: Errc::kJobFailed
// (WORK_FAIL) or Errc::kJobException (WORK_EXCEPTION, its data in Error::detail()).
//
// Servers, failover and placement (details in docs/client-library.md):
//   * a job with a unique key goes to the server that owns the key on a consistent-hash ring
//     of the server list, or to the next server clockwise while that one is unreachable;
//   * a job without a key goes to the servers in turn (round robin), skipping unreachable ones;
//   * a server that refuses a connection is skipped for a backoff period that doubles from
//     reconnect_backoff_min to reconnect_backoff_max, and is tried again after it;
//   * a request that was never written to a server is moved to the next server when the
//     connection fails; one that was written when the connection died fails with
//     kConnectionLost, because the client cannot know whether the server queued it.
#pragma once

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
#include "gearbox/unique.h"

namespace gearbox {

using Millis = std::chrono::milliseconds;

enum class Priority { kHigh, kNormal, kLow };

struct ClientOptions {
  // "host[:port],..." (see ParseServerList). Empty and no GEARMAN_SERVERS: localhost:4730.
  std::string servers{};
  // Also use the servers in GEARMAN_SERVERS, as libgearman does.
  bool read_environment = true;
  // How long a TCP connect may take before the server counts as unreachable.
  Millis connect_timeout{5000};
  // How long a server may stay silent while it owes a direct reply (JOB_CREATED, STATUS_RES,
  // ECHO_RES, OPTION_RES). After that the connection is closed as dead. Waiting for a job's
  // result is not bounded by this (jobs may run for hours); use `timeout` for that.
  Millis io_timeout{30000};
  // The default deadline of each blocking call (Do, RunTasks, ...). nullopt: no deadline
  // (Interrupt() still ends the call).
  std::optional<Millis> timeout{};
  Millis reconnect_backoff_min{100};
  Millis reconnect_backoff_max{10000};
  // Sent as SET_CLIENT_ID on every connection when not empty (shown by `gearadmin --workers`).
  std::string client_id{};
  // Ask each server for WORK_EXCEPTION packets (OPTION_REQ "exceptions"). Without it servers
  // turn a worker's exception into a plain WORK_FAIL. A server that refuses the option is used
  // without it.
  bool exceptions = true;
  LogFn log{};
};

struct JobHandle {
  std::string handle{};  // as the server assigned it, e.g. "H:host:42"
  std::string server{};  // "host:port" of the server that holds the job
};

struct JobStatus {
  bool known = false;    // the server has the job (queued or running)
  bool running = false;  // a worker has it
  uint32_t numerator = 0;
  uint32_t denominator = 0;
  // From GET_STATUS_UNIQUE only: clients waiting for the job (gearmand 1.1 always says 0).
  uint32_t waiting_clients = 0;
  std::string server{};  // the server that answered (for an unknown job: the last one asked)
};

// Options of one blocking submit.
struct CallOptions {
  Priority priority = Priority::kNormal;
  Unique unique{};                  // default: none for foreground, a UUID for background
  std::optional<Millis> timeout{};  // nullopt: ClientOptions::timeout
  // Foreground only. When on_data is set, WORK_DATA chunks go to it; otherwise they are
  // prepended, in order, to the result that Do() returns (libgearman's behaviour).
  std::function<void(std::string_view data)> on_data{};
  std::function<void(std::string_view warning)> on_warning{};
  std::function<void(uint32_t numerator, uint32_t denominator)> on_status{};
};

enum class TaskState {
  kPending,    // not yet written to a server
  kSubmitted,  // written; waiting for JOB_CREATED
  kQueued,     // foreground job accepted; waiting for its result
  kDone,       // background: accepted; foreground: WORK_COMPLETE received
  kFailed,     // see error()
};

namespace internal {
struct TaskImpl;
}

// A handle to one submitted task; copies refer to the same task.
class Task {
 public:
  Task() = default;  // refers to nothing; valid() is false

  bool valid() const { return impl_ != nullptr; }
  const std::string& function() const;
  const std::string& unique() const;  // the key that was sent ("" for none)
  bool background() const;
  TaskState state() const;
  bool finished() const;              // kDone or kFailed
  bool ok() const;                    // kDone
  const std::string& handle() const;  // empty until JOB_CREATED
  const std::string& server() const;  // "host:port" the task was sent to, once placed
  // Foreground: the WORK_COMPLETE data (WORK_DATA chunks are delivered to on_data only).
  const std::string& result() const;
  // Precondition: state() == kFailed.
  const Error& error() const;
  uint32_t numerator() const;
  uint32_t denominator() const;

 private:
  friend class Client;
  friend struct internal::TaskImpl;
  explicit Task(std::shared_ptr<internal::TaskImpl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<internal::TaskImpl> impl_;
};

// Callbacks of one task, all optional. A task ends with exactly one of on_complete (foreground
// success), on_exception (WORK_EXCEPTION) or on_fail (WORK_FAIL or any error); a background
// task ends successfully at on_created. When on_exception is not set, an exception is reported
// to on_fail as Errc::kJobException.
struct TaskHandlers {
  std::function<void(const Task&)> on_created{};
  std::function<void(const Task&, std::string_view data)> on_data{};
  std::function<void(const Task&, std::string_view warning)> on_warning{};
  std::function<void(const Task&, uint32_t numerator, uint32_t denominator)> on_status{};
  std::function<void(const Task&, std::string_view result)> on_complete{};
  std::function<void(const Task&, std::string_view exception)> on_exception{};
  std::function<void(const Task&, const Error& error)> on_fail{};
};

struct TaskSpec {
  std::string function{};
  std::string payload{};
  Unique unique{};
  Priority priority = Priority::kNormal;
  bool background = false;
  // An epoch job (SUBMIT_JOB_EPOCH): background, normal priority, not run before `when`.
  std::optional<std::chrono::system_clock::time_point> when{};
  // Non-empty: a reduce job (SUBMIT_REDUCE_JOB[_BACKGROUND]); normal priority.
  std::string reducer{};
  TaskHandlers handlers{};
};

class Client {
 public:
  // Parses the server list; connects lazily. Fails only on invalid options.
  static Expected<Client> Create(ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // --- Blocking calls. Each returns when done, on its deadline (kTimeout) or on Interrupt(). ---

  // Runs a foreground job and returns its result (see CallOptions::on_data).
  Expected<std::string> Do(std::string_view function, std::string_view payload,
                           const CallOptions& options = {});
  // Queues a background job; returns once the server has accepted it.
  Expected<JobHandle> DoBackground(std::string_view function, std::string_view payload,
                                   const CallOptions& options = {});
  // Queues a background job that no worker gets before `when` (SUBMIT_JOB_EPOCH; the priority
  // in options is ignored: the protocol has none for epoch jobs).
  Expected<JobHandle> DoAt(std::string_view function, std::string_view payload,
                           std::chrono::system_clock::time_point when,
                           const CallOptions& options = {});
  // A reduce job (SUBMIT_REDUCE_JOB): runs `function` and names `reducer` for the worker
  // (libgearman's map/reduce convention); the result is the worker's, as for Do().
  Expected<std::string> Reduce(std::string_view function, std::string_view reducer,
                               std::string_view payload, const CallOptions& options = {});
  Expected<JobHandle> ReduceBackground(std::string_view function, std::string_view reducer,
                                       std::string_view payload, const CallOptions& options = {});

  // GET_STATUS on the server that holds the job.
  Expected<JobStatus> GetStatus(const JobHandle& job, std::optional<Millis> timeout = {});
  // GET_STATUS on every server; the first that knows the handle answers.
  Expected<JobStatus> GetStatus(std::string_view handle, std::optional<Millis> timeout = {});
  // GET_STATUS_UNIQUE on every server; the first that knows the key answers.
  Expected<JobStatus> GetStatusByUnique(std::string_view unique,
                                        std::optional<Millis> timeout = {});
  // ECHO_REQ to the first reachable server (list order); returns the echoed bytes.
  Expected<std::string> Echo(std::string_view payload, std::optional<Millis> timeout = {});

  // --- Task API: many jobs pipelined over one connection per server. ---

  // Queues a task; it is written to its server by the next call that runs the loop.
  Expected<Task> AddTask(TaskSpec spec);
  // Runs until every task added so far has finished, the deadline passes (kTimeout; tasks keep
  // their state and a later RunTasks continues them), or Interrupt() (kStopped). Task failures
  // are reported through each task, not through this result.
  Expected<void> RunTasks(std::optional<Millis> timeout = {});
  // Runs until `task` has finished (other tasks progress meanwhile).
  Expected<void> Wait(const Task& task, std::optional<Millis> timeout = {});
  // Tasks added but not finished.
  size_t pending_tasks() const;

  // Makes the Client call in progress (or the next one) return Errc::kStopped soon.
  // Thread-safe and async-signal-safe.
  void Interrupt();

  const std::vector<ServerAddress>& servers() const;
  // The server a job with this unique key is sent to while every server is reachable.
  const ServerAddress& ServerForUnique(std::string_view unique) const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gearbox
