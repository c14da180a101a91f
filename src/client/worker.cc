// Worker: the I/O loop (connections, registration, grabbing within the handler slots,
// heartbeats, reconnects) and the handler thread pool. Handlers talk to the loop only through
// the outbox (a mutex-protected queue plus an eventfd wake-up).
#include "gearbox/worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "client/connection.h"
#include "client/worker_session.h"

namespace gearbox {

using client::Clock;
using client::Connection;
using client::Time;
using client::WorkerSession;
using protocol::Command;
using Ms = std::chrono::milliseconds;

namespace {

constexpr size_t kMaxFunctionSize = 512;

std::string MsText(Ms ms) {
  return std::to_string(ms.count()) + " ms";
}

struct FunctionEntry {
  std::string name;
  Handler handler;
  FunctionOptions options;
};

}  // namespace

// One server connection of the worker.
struct WorkerConn {
  explicit WorkerConn(size_t i, ServerAddress a) : index(i), conn(std::move(a)) {}
  size_t index;
  Connection conn;
  WorkerSession session;
  // Bumped whenever the connection is lost; results of jobs from an older generation are
  // dropped (the server has requeued those jobs). Read by handler threads.
  std::atomic<uint64_t> generation{0};
  int running = 0;        // jobs of the current generation still in a handler
  bool draining = false;  // a handler asked for a retry: close once `running` is 0
  bool registered = false;
  Time retry_at{};
  Time connect_deadline{};
  Time last_recv{};
  bool echo_pending = false;
  Time echo_sent{};
  Ms backoff{0};
  bool ever_tried = false;  // for Connect(): at least one attempt has finished
  std::map<std::string, std::optional<Ms>> sent;  // what this connection has registered
};

namespace internal {

struct JobImpl {
  Worker::Impl* worker = nullptr;
  WorkerConn* conn = nullptr;
  uint64_t generation = 0;
  std::string function, handle, unique, reducer, payload, server;
  std::shared_ptr<FunctionEntry> entry;

  bool Send(Command c, std::initializer_list<std::string_view> parts);
  Job MakeJob() { return Job(this); }
};

}  // namespace internal

using internal::JobImpl;

struct Worker::Impl {
  struct OutMsg {
    size_t conn;
    uint64_t generation;
    std::string bytes;
    bool final = false;
    bool retry = false;
  };

  WorkerOptions opts;
  std::vector<std::unique_ptr<WorkerConn>> conns;
  int wake_fd = -1;

  // Shared with other threads (mu).
  std::mutex mu;
  std::map<std::string, std::shared_ptr<FunctionEntry>> functions;
  bool functions_changed = false;
  std::deque<OutMsg> outbox;
  std::condition_variable run_cv;
  bool run_active = false;

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done_count{0};

  // Handler pool.
  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::deque<std::unique_ptr<JobImpl>> pool_queue;
  bool pool_stop = false;
  std::vector<std::thread> pool;

  // Loop state (I/O thread only).
  int running = 0;
  uint64_t taken = 0;
  size_t grab_cursor = 0;
  Time last_job{};

  explicit Impl(WorkerOptions o, std::vector<ServerAddress> list) : opts(std::move(o)) {
    for (size_t i = 0; i < list.size(); ++i) {
      conns.push_back(std::make_unique<WorkerConn>(i, list[i]));
      conns.back()->backoff = opts.reconnect_backoff_min;
    }
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~Impl() {
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void Log(const std::string& m) const {
    if (opts.log) opts.log(m);
  }
  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd, &one, sizeof(one));
  }
  void Post(OutMsg m) {
    {
      std::lock_guard<std::mutex> l(mu);
      outbox.push_back(std::move(m));
    }
    Wake();
  }

  Command GrabCommand() {
    switch (opts.grab) {
      case WorkerOptions::Grab::kPlain:
        return Command::kGrabJob;
      case WorkerOptions::Grab::kUniq:
        return Command::kGrabJobUniq;
      case WorkerOptions::Grab::kAll:
        return Command::kGrabJobAll;
      case WorkerOptions::Grab::kAuto:
        break;
    }
    std::lock_guard<std::mutex> l(mu);
    for (auto& [name, e] : functions) {
      if (e->options.reducer) return Command::kGrabJobAll;
    }
    return Command::kGrabJobUniq;
  }

  // ---- Handler pool ----------------------------------------------------------------------

  void StartPool() {
    pool_stop = false;
    size_t n = std::max<size_t>(1, opts.concurrency);
    for (size_t i = 0; i < n; ++i)
      pool.emplace_back([this] { PoolMain(); });
  }

  void StopPool() {
    {
      std::lock_guard<std::mutex> l(pool_mu);
      pool_stop = true;
    }
    pool_cv.notify_all();
    for (auto& t : pool)
      t.join();
    pool.clear();
  }

  void PoolMain() {
    while (true) {
      std::unique_ptr<JobImpl> job;
      {
        std::unique_lock<std::mutex> l(pool_mu);
        pool_cv.wait(l, [&] { return pool_stop || !pool_queue.empty(); });
        if (pool_queue.empty()) return;
        job = std::move(pool_queue.front());
        pool_queue.pop_front();
      }
      RunJob(*job);
    }
  }

  void RunJob(JobImpl& j) {
    WorkResult result;
    Job job = j.MakeJob();
    try {
      result = j.entry->handler(job);
    } catch (const std::exception& e) {
      result = WorkResult::Exception(e.what());
    } catch (...) {
      result = WorkResult::Exception("the handler threw a non-std::exception");
    }
    OutMsg m{j.conn->index, j.generation, {}, true, false};
    constexpr auto kReq = protocol::Magic::kRequest;
    switch (result.kind()) {
      case WorkResult::Kind::kComplete:
        protocol::AppendPacket(m.bytes, kReq, Command::kWorkComplete, {j.handle, result.data()});
        break;
      case WorkResult::Kind::kFail:
        protocol::AppendPacket(m.bytes, kReq, Command::kWorkFail, {j.handle});
        break;
      case WorkResult::Kind::kException:
        protocol::AppendPacket(m.bytes, kReq, Command::kWorkException, {j.handle, result.data()});
        break;
      case WorkResult::Kind::kRetry:
        m.retry = true;
        break;
    }
    done_count.fetch_add(1);
    Post(std::move(m));
  }

  // ---- Connections -----------------------------------------------------------------------

  void StartConnect(WorkerConn& c, Time now) {
    c.registered = false;
    auto r = c.conn.StartConnect();
    if (!r.ok()) {
      ConnectFailed(c, r.error().message(), now);
      return;
    }
    c.connect_deadline = now + opts.connect_timeout;
    if (c.conn.state() == Connection::State::kConnected) Connected(c, now);
  }

  void ConnectFailed(WorkerConn& c, const std::string& why, Time now) {
    c.conn.Close();
    c.ever_tried = true;
    c.retry_at = now + c.backoff;
    Log(why + "; retrying in " + MsText(c.backoff));
    c.backoff = std::min(c.backoff * 2, opts.reconnect_backoff_max);
  }

  void Connected(WorkerConn& c, Time now) {
    c.ever_tried = true;
    c.backoff = opts.reconnect_backoff_min;
    c.last_recv = now;
    c.echo_pending = false;
    c.session.Reset();
    c.running = 0;
    c.draining = false;
    c.sent.clear();
    Log("connected to " + c.conn.name());
    if (!opts.client_id.empty()) WorkerSession::SetClientId(c.conn.out(), opts.client_id);
    SyncFunctions(c);
    c.registered = true;
  }

  // Sends CAN_DO / CANT_DO so the server knows exactly the current functions.
  void SyncFunctions(WorkerConn& c) {
    std::map<std::string, std::optional<Ms>> want;
    {
      std::lock_guard<std::mutex> l(mu);
      for (auto& [name, e] : functions)
        want[name] = e->options.timeout;
    }
    for (auto& [name, timeout] : c.sent) {
      if (!want.count(name)) WorkerSession::CantDo(c.conn.out(), name);
    }
    for (auto& [name, timeout] : want) {
      auto it = c.sent.find(name);
      if (it == c.sent.end() || it->second != timeout) {
        WorkerSession::CanDo(c.conn.out(), name, timeout);
      }
    }
    c.sent = std::move(want);
  }

  void Lost(WorkerConn& c, const std::string& why, Time now) {
    c.conn.Close();
    c.generation.fetch_add(1);
    c.running = 0;
    c.draining = false;
    c.registered = false;
    c.session.Reset();
    c.retry_at = now;  // the first reconnect is immediate; failures then back off
    Log("lost " + c.conn.name() + ": " + why + "; reconnecting");
  }

  // ---- The loop --------------------------------------------------------------------------

  int Busy() const {
    int grabbing = 0;
    for (auto& c : conns) {
      if (c->conn.state() == Connection::State::kConnected &&
          c->session.phase() == WorkerSession::Phase::kGrabbing) {
        ++grabbing;
      }
    }
    return running + grabbing;
  }

  bool Grabbing() const {
    for (auto& c : conns) {
      if (c->conn.state() == Connection::State::kConnected &&
          c->session.phase() == WorkerSession::Phase::kGrabbing) {
        return true;
      }
    }
    return false;
  }

  void DrainOutbox(Time now) {
    std::deque<OutMsg> msgs;
    bool changed;
    {
      std::lock_guard<std::mutex> l(mu);
      msgs.swap(outbox);
      changed = functions_changed;
      functions_changed = false;
    }
    for (auto& m : msgs) {
      WorkerConn& c = *conns[m.conn];
      bool current =
          c.generation.load() == m.generation && c.conn.state() == Connection::State::kConnected;
      if (m.final) --running;
      if (!current) continue;
      if (!m.bytes.empty()) c.conn.out().Append(m.bytes);
      if (m.final) --c.running;
      if (m.retry) c.draining = true;
    }
    for (auto& cp : conns) {
      WorkerConn& c = *cp;
      if (c.draining && c.running == 0 && c.conn.state() == Connection::State::kConnected) {
        // Dropping the connection is how a worker hands a job back: the server requeues it.
        (void)c.conn.Flush();
        Lost(c, "a handler asked for its job to be retried", now);
      }
    }
    if (changed) {
      for (auto& cp : conns) {
        if (cp->registered) {
          SyncFunctions(*cp);
          cp->session.Wake();  // a sleeping connection would not hear about queued jobs
        }
      }
    }
  }

  void OnReadable(WorkerConn& c, Time now, bool stopping) {
    auto r = c.conn.Read();
    protocol::Frame f;
    while (c.conn.state() == Connection::State::kConnected) {
      auto n = c.conn.Next(&f);
      if (!n.ok()) {
        Lost(c, n.error().message(), now);
        return;
      }
      if (!*n) break;
      c.last_recv = now;
      c.echo_pending = false;
      WorkerSession::Assignment a;
      std::string err;
      switch (c.session.OnPacket(f, c.conn.out(), &a, &err)) {
        case WorkerSession::Event::kAssigned:
          Dispatch(c, a, now);
          break;
        case WorkerSession::Event::kError:
          Log(c.conn.name() + " sent ERROR " + err);
          break;
        case WorkerSession::Event::kWoken:
        case WorkerSession::Event::kEchoed:
        case WorkerSession::Event::kNone:
          break;
      }
    }
    (void)stopping;
    if (!r.ok()) Lost(c, r.error().message(), now);
  }

  void Dispatch(WorkerConn& c, const WorkerSession::Assignment& a, Time now) {
    last_job = now;
    std::shared_ptr<FunctionEntry> entry;
    {
      std::lock_guard<std::mutex> l(mu);
      auto it = functions.find(std::string(a.function));
      if (it != functions.end()) entry = it->second;
    }
    if (!entry) {
      Log(c.conn.name() + " assigned a job for '" + std::string(a.function) +
          "', which is not registered; failing it");
      protocol::AppendPacket(c.conn.out(), protocol::Magic::kRequest, Command::kWorkFail,
                             {a.handle});
      return;
    }
    ++taken;
    ++running;
    ++c.running;
    auto j = std::make_unique<JobImpl>();
    j->worker = this;
    j->conn = &c;
    j->generation = c.generation.load();
    j->function.assign(a.function);
    j->handle.assign(a.handle);
    j->unique.assign(a.unique);
    j->reducer.assign(a.reducer);
    j->payload.assign(a.payload);
    j->server = c.conn.name();
    j->entry = std::move(entry);
    {
      std::lock_guard<std::mutex> l(pool_mu);
      pool_queue.push_back(std::move(j));
    }
    pool_cv.notify_one();
  }

  void Grabs(Command grab) {
    int free = static_cast<int>(std::max<size_t>(1, opts.concurrency)) - Busy();
    size_t n = conns.size();
    for (size_t k = 0; k < n && free > 0; ++k) {
      if (opts.max_jobs != 0 && taken + static_cast<uint64_t>(Busy() - running) >= opts.max_jobs) {
        return;
      }
      WorkerConn& c = *conns[(grab_cursor + k) % n];
      if (c.conn.state() != Connection::State::kConnected || !c.registered || c.draining) continue;
      if (c.session.phase() != WorkerSession::Phase::kIdle) continue;
      c.session.Grab(c.conn.out(), grab);
      --free;
    }
    grab_cursor = (grab_cursor + 1) % std::max<size_t>(1, n);
  }

  // The loop shared by Connect() and Run(). `serve`: grab and run jobs; otherwise only
  // connect and register until every server has been tried once.
  Expected<void> Loop(bool serve) {
    std::vector<pollfd> fds;
    std::vector<WorkerConn*> fd_conns;
    Time now = Clock::now();
    last_job = now;
    bool stopping = false;
    bool timed_out = false;
    std::optional<Time> flush_deadline;
    // When stopping, an outstanding grab is answered for at most this long; after that the
    // connection is just closed (the server requeues a job that was on its way).
    std::optional<Time> grab_deadline;
    auto finished = [&] {
      return stopping && running == 0 && (!Grabbing() || (grab_deadline && now >= *grab_deadline));
    };
    while (true) {
      now = Clock::now();
      DrainOutbox(now);
      if (stop.load()) stopping = true;
      if (stopping && !grab_deadline) grab_deadline = now + std::min<Ms>(opts.io_timeout, Ms(1000));
      if (serve) {
        if (opts.max_jobs != 0 && taken >= opts.max_jobs) stopping = true;
        if (opts.idle_timeout && running == 0 && !Grabbing() &&
            now >= last_job + *opts.idle_timeout) {
          stopping = true;
          timed_out = true;
        }
        if (finished()) {
          // Done once the last results are written (poll waits for POLLOUT otherwise).
          bool pending_output = false;
          for (auto& c : conns) {
            if (c->conn.state() != Connection::State::kConnected || !c->conn.wants_write())
              continue;
            if (auto w = c->conn.Flush(); !w.ok()) {
              Lost(*c, w.error().message(), now);
            } else if (c->conn.wants_write()) {
              pending_output = true;
            }
          }
          if (!flush_deadline) flush_deadline = now + opts.io_timeout;
          if (!pending_output || now >= *flush_deadline) break;
        }
      } else {
        if (stopping) return Error(Errc::kStopped, "Worker::Stop() was called while connecting");
        bool all_tried = std::all_of(conns.begin(), conns.end(), [](auto& c) {
          return c->ever_tried || c->conn.state() == Connection::State::kConnected;
        });
        if (all_tried) break;
      }

      // Connections: start, time out, heartbeat.
      for (auto& cp : conns) {
        WorkerConn& c = *cp;
        switch (c.conn.state()) {
          case Connection::State::kClosed:
            if (!stopping && now >= c.retry_at) StartConnect(c, now);
            break;
          case Connection::State::kConnecting:
            if (now >= c.connect_deadline) {
              ConnectFailed(c,
                            "connecting to " + c.conn.name() + " timed out after " +
                                MsText(opts.connect_timeout),
                            now);
            }
            break;
          case Connection::State::kConnected:
            if (c.echo_pending && now >= c.echo_sent + opts.io_timeout) {
              Lost(c, "no answer to a heartbeat within " + MsText(opts.io_timeout), now);
            } else if (!c.echo_pending && opts.heartbeat.count() > 0 &&
                       now >= c.last_recv + opts.heartbeat) {
              WorkerSession::Echo(c.conn.out());
              c.echo_pending = true;
              c.echo_sent = now;
            }
            break;
        }
      }
      if (serve && !stopping) Grabs(GrabCommand());
      for (auto& cp : conns) {
        if (cp->conn.state() == Connection::State::kConnected && cp->conn.wants_write()) {
          auto w = cp->conn.Flush();
          if (!w.ok()) Lost(*cp, w.error().message(), now);
        }
      }

      // Wait.
      fds.clear();
      fd_conns.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      fd_conns.push_back(nullptr);
      std::optional<Time> wake_at;
      auto earlier = [&](Time t) {
        if (!wake_at || t < *wake_at) wake_at = t;
      };
      for (auto& cp : conns) {
        WorkerConn& c = *cp;
        short ev = c.conn.PollEvents();
        if (c.conn.state() == Connection::State::kClosed) {
          if (!stopping) earlier(c.retry_at);
          continue;
        }
        fds.push_back({c.conn.fd(), ev, 0});
        fd_conns.push_back(&c);
        if (c.conn.state() == Connection::State::kConnecting) earlier(c.connect_deadline);
        if (c.conn.state() == Connection::State::kConnected) {
          if (c.echo_pending) {
            earlier(c.echo_sent + opts.io_timeout);
          } else if (opts.heartbeat.count() > 0) {
            earlier(c.last_recv + opts.heartbeat);
          }
        }
      }
      if (serve && opts.idle_timeout && running == 0) earlier(last_job + *opts.idle_timeout);
      if (flush_deadline) earlier(*flush_deadline);
      if (grab_deadline && running == 0) earlier(*grab_deadline);
      // Connections may have closed above (heartbeat, retry): if that ended the run, go round
      // again at once rather than waiting for an event that will not come.
      if (serve && finished()) earlier(now);
      int wait_ms = -1;
      if (wake_at) {
        auto left = std::chrono::duration_cast<Ms>(*wake_at - now).count() + 1;
        wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
      }
      int n = ::poll(fds.data(), fds.size(), wait_ms);
      if (n < 0) continue;
      now = Clock::now();
      if (fds[0].revents != 0) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd, &v, sizeof(v));
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        WorkerConn& c = *fd_conns[i];
        short re = fds[i].revents;
        if (re == 0 || c.conn.fd() != fds[i].fd) continue;
        if (c.conn.state() == Connection::State::kConnecting) {
          auto r = c.conn.ContinueConnect();
          if (!r.ok()) {
            ConnectFailed(c, r.error().message(), now);
          } else if (*r) {
            Connected(c, now);
          }
          continue;
        }
        if (re & (POLLIN | POLLHUP | POLLERR)) OnReadable(c, now, stopping);
        if (c.conn.state() == Connection::State::kConnected && (re & POLLOUT)) {
          auto w = c.conn.Flush();
          if (!w.ok()) Lost(c, w.error().message(), now);
        }
      }
    }
    if (timed_out) {
      return Error(Errc::kTimeout,
                   "no job arrived within the idle timeout of " + MsText(*opts.idle_timeout));
    }
    return {};
  }

  void CloseAll() {
    for (auto& c : conns) {
      if (c->conn.state() != Connection::State::kClosed) {
        c->conn.Close();
        c->generation.fetch_add(1);
      }
      c->registered = false;
      c->running = 0;
      c->retry_at = Time{};
    }
  }
};

bool JobImpl::Send(Command c, std::initializer_list<std::string_view> parts) {
  if (conn->generation.load() != generation) return false;
  Worker::Impl::OutMsg m{conn->index, generation, {}, false, false};
  protocol::AppendPacket(m.bytes, protocol::Magic::kRequest, c, parts);
  worker->Post(std::move(m));
  return true;
}

// ---- Job -------------------------------------------------------------------------------------

const std::string& Job::function() const {
  return impl_->function;
}
const std::string& Job::handle() const {
  return impl_->handle;
}
const std::string& Job::unique() const {
  return impl_->unique;
}
const std::string& Job::reducer() const {
  return impl_->reducer;
}
const std::string& Job::payload() const {
  return impl_->payload;
}
const std::string& Job::server() const {
  return impl_->server;
}
bool Job::SendData(std::string_view data) {
  return impl_->Send(Command::kWorkData, {impl_->handle, data});
}
bool Job::SendWarning(std::string_view warning) {
  return impl_->Send(Command::kWorkWarning, {impl_->handle, warning});
}
bool Job::SendStatus(uint32_t numerator, uint32_t denominator) {
  return impl_->Send(Command::kWorkStatus,
                     {impl_->handle, std::to_string(numerator), std::to_string(denominator)});
}
bool Job::stop_requested() const {
  return impl_->worker->stop.load();
}
bool Job::connection_lost() const {
  return impl_->conn->generation.load() != impl_->generation;
}

// ---- Worker ----------------------------------------------------------------------------------

Expected<Worker> Worker::Create(WorkerOptions options) {
  auto list = ResolveServerList(options.servers, options.read_environment);
  if (!list.ok()) return list.error();
  if (options.concurrency == 0) {
    return Error(Errc::kInvalidArgument, "concurrency must be at least 1");
  }
  if (options.connect_timeout.count() <= 0 || options.io_timeout.count() <= 0) {
    return Error(Errc::kInvalidArgument, "connect_timeout and io_timeout must be positive");
  }
  if (options.reconnect_backoff_min.count() <= 0 ||
      options.reconnect_backoff_max < options.reconnect_backoff_min) {
    return Error(Errc::kInvalidArgument,
                 "reconnect_backoff_min must be positive and not above reconnect_backoff_max");
  }
  if (options.client_id.find('\0') != std::string::npos) {
    return Error(Errc::kInvalidArgument, "client id must not contain NUL bytes");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*list));
  if (impl->wake_fd < 0) {
    return Error(Errc::kInvalidArgument, "eventfd() failed: " + client::ErrnoText(errno));
  }
  return Worker(std::move(impl));
}

Worker::Worker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Worker::Worker(Worker&&) noexcept = default;
Worker& Worker::operator=(Worker&&) noexcept = default;

Worker::~Worker() {
  if (!impl_) return;
  Stop();
  std::unique_lock<std::mutex> l(impl_->mu);
  impl_->run_cv.wait(l, [&] { return !impl_->run_active; });
}

Expected<void> Worker::Register(std::string function, Handler handler, FunctionOptions options) {
  if (function.empty()) return Error(Errc::kInvalidArgument, "function name must not be empty");
  if (function.find('\0') != std::string::npos) {
    return Error(Errc::kInvalidArgument, "function name must not contain NUL bytes");
  }
  if (function.size() > kMaxFunctionSize) {
    return Error(Errc::kInvalidArgument, "function name is " + std::to_string(function.size()) +
                                             " bytes; the limit is " +
                                             std::to_string(kMaxFunctionSize));
  }
  if (!handler) return Error(Errc::kInvalidArgument, "handler for '" + function + "' is empty");
  if (options.timeout && options.timeout->count() <= 0) {
    return Error(Errc::kInvalidArgument, "timeout for '" + function + "' must be positive");
  }
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto e = std::make_shared<FunctionEntry>();
    e->name = function;
    e->handler = std::move(handler);
    e->options = options;
    impl_->functions[function] = std::move(e);
    impl_->functions_changed = true;
  }
  impl_->Wake();
  return {};
}

Expected<void> Worker::Unregister(std::string_view function) {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    auto it = impl_->functions.find(std::string(function));
    if (it == impl_->functions.end()) {
      return Error(Errc::kInvalidArgument,
                   "function '" + std::string(function) + "' is not registered");
    }
    impl_->functions.erase(it);
    impl_->functions_changed = true;
  }
  impl_->Wake();
  return {};
}

Expected<void> Worker::Connect() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->run_active) return Error(Errc::kInvalidArgument, "the worker is already running");
    impl_->run_active = true;
  }
  for (auto& c : impl_->conns)
    c->ever_tried = false;
  auto r = impl_->Loop(false);
  // Send the registrations now rather than when Run() starts.
  for (auto& c : impl_->conns) {
    if (c->conn.state() == Connection::State::kConnected) (void)c->conn.Flush();
  }
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->run_active = false;
  }
  impl_->run_cv.notify_all();
  if (!r.ok()) return r;
  std::string errors;
  size_t up = 0;
  for (auto& c : impl_->conns) {
    if (c->conn.state() == Connection::State::kConnected) {
      ++up;
    }
  }
  if (up == 0) {
    for (auto& c : impl_->conns) {
      if (!errors.empty()) errors += "; ";
      errors += c->conn.name();
    }
    return Error(Errc::kConnectFailed,
                 "could not connect to any Gearman server (" + errors +
                     "); check that gearmand is running and the addresses are right");
  }
  return {};
}

Expected<void> Worker::Run() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->run_active) return Error(Errc::kInvalidArgument, "the worker is already running");
    if (impl_->functions.empty()) {
      return Error(Errc::kInvalidArgument, "no function is registered; call Register() first");
    }
    impl_->run_active = true;
    impl_->functions_changed = true;
  }
  impl_->running = 0;
  impl_->taken = 0;
  impl_->StartPool();
  auto r = impl_->Loop(true);
  impl_->StopPool();
  impl_->CloseAll();
  impl_->stop.store(false);
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->outbox.clear();
    impl_->run_active = false;
  }
  impl_->run_cv.notify_all();
  return r;
}

void Worker::Stop() {
  if (!impl_) return;
  impl_->stop.store(true);
  impl_->Wake();
}

uint64_t Worker::jobs_done() const {
  return impl_->done_count.load();
}

}  // namespace gearbox
