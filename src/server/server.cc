#include "server/server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "base/log.h"
#include "gearbox_version.h"
#include "server/batch.h"
#include "server/event_loop.h"
#include "server/io_loop.h"

namespace gearbox::server {

using core::SessionId;

namespace {

// Runs a run of complete items through the core (both threading shapes use this).
void DispatchRun(core::JobCore& core, SessionId sid, std::string_view run,
                 const protocol::Limits& limits) {
  protocol::Item item;
  while (!run.empty()) {
    auto r = protocol::Decode(run, limits, &item);
    using S = protocol::DecodeResult::Status;
    if (r.status == S::kItem) {
      if (item.kind == protocol::Item::Kind::kPacket) {
        core.HandlePacket(sid, item.frame);
      } else {
        core.HandleText(sid, item.text);
      }
    } else if (r.status == S::kSkip) {
      core.HandleBadPacket(sid, r.error, r.type);
    } else {
      return;  // cannot happen: the I/O side only forwards complete items
    }
    run.remove_prefix(r.consumed);
  }
}

core::CoreOptions MakeCoreOptions(const ServerOptions& o) {
  core::CoreOptions c;
  c.handle_prefix = o.job_handle_prefix;
  c.job_retries = o.job_retries;
  c.worker_wakeup = static_cast<uint32_t>(o.worker_wakeup);
  c.exceptions = o.exceptions;
  c.pid = static_cast<int>(::getpid());
  c.version = GEARBOX_VERSION;
  return c;
}

IoConfig MakeIoConfig(const ServerOptions& o) {
  IoConfig c;
  c.limits.max_packet = o.max_packet_size;
  c.keepalive = o.keepalive;
  c.keepalive_idle = o.keepalive_idle;
  c.keepalive_interval = o.keepalive_interval;
  c.keepalive_count = o.keepalive_count;
  c.use_uring = o.io_engine != "epoll";
  return c;
}

// A mailbox: other threads post, the owning loop takes everything at once when woken.
template <typename T>
class Mailbox {
 public:
  explicit Mailbox(EventLoop& owner) : owner_(owner) {}
  void Post(T item) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(std::move(item));
    }
    owner_.Wake();
  }
  std::vector<T> Take() {
    std::vector<T> out;
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(items_);
    return out;
  }

 private:
  EventLoop& owner_;
  std::mutex mu_;
  std::vector<T> items_;
};

// Gives memory back to the OS after a large queue drained (gearmand keeps it: #7, #284).
// Called every kHousekeepingMs on the core's thread: trims each time the job count halves from
// a peak of at least 10,000, and once more when it reaches zero after such a peak (the halvings
// stop once the peak is small, and the last few thousand jobs' pages would stay otherwise).
constexpr int64_t kHousekeepingMs = 250;

class MemoryReturn {
 public:
  void Check(size_t jobs) {
    peak_ = std::max(peak_, jobs);
    if (peak_ >= 10000 && jobs < peak_ / 2) {
      ::malloc_trim(0);
      peak_ = jobs;
      tail_ = jobs > 0;
    } else if (tail_ && jobs == 0) {
      ::malloc_trim(0);
      tail_ = false;
    }
  }

 private:
  size_t peak_ = 0;
  bool tail_ = false;  // trimmed on the way down, not yet at zero
};

void LogEngine(const EventLoop& loop, const ServerOptions& o) {
  if (loop.uses_uring()) {
    GB_LOG(kInfo, "Connection I/O: io_uring");
  } else if (o.io_engine == "io_uring") {
    GB_LOG(kError, "--io-engine io_uring: io_uring unavailable ({}); using epoll",
           loop.uring_unavailable());
  } else if (o.io_engine == "auto") {
    GB_LOG(kNotice, "io_uring unavailable ({}); connection I/O uses epoll",
           loop.uring_unavailable());
  } else {
    GB_LOG(kInfo, "Connection I/O: epoll");
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual Status Start() = 0;
  virtual int Run() = 0;
};

// Signals, graceful shutdown and log reopening, on the main thread's loop. The signals are
// blocked (in this thread and every thread started later) and read from a signalfd.
class SignalHandlers {
 public:
  SignalHandlers(EventLoop& loop, std::function<void(bool graceful)> shutdown)
      : loop_(loop), shutdown_(std::move(shutdown)) {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGUSR1, SIGHUP})
      sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    watch_ = loop_.WatchReadable(fd_, [this] { OnReadable(); });
  }
  ~SignalHandlers() {
    loop_.Unwatch(watch_);
    ::close(fd_);
  }

 private:
  void OnReadable() {
    signalfd_siginfo si{};
    while (::read(fd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGHUP) {
        GB_LOG(kNotice, "SIGHUP: reopening the log file");
        ReopenLog();
        continue;
      }
      bool graceful = sig == SIGUSR1;
      GB_LOG(kNotice, "Received signal {}: {} shutdown", sig, graceful ? "graceful" : "immediate");
      shutdown_(graceful);
    }
  }
  EventLoop& loop_;
  std::function<void(bool)> shutdown_;
  int fd_ = -1;
  EventLoop::Watch* watch_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// One loop does everything.

class SingleLoopRuntime final : public Runtime,
                                public core::Output,
                                public CoreSink,
                                public core::CoreHooks {
 public:
  SingleLoopRuntime(const ServerOptions& o, Listener& listener, core::Store& store,
                    const Clock& clock)
      : options_(o),
        listener_(listener),
        store_(store),
        loop_(o.io_engine != "epoll"),
        io_(loop_, MakeIoConfig(o), 0, 1),
        core_(MakeCoreOptions(o), *this, store, clock, this),
        timer_(loop_, [this] { core_.Tick(); }),
        housekeeping_(loop_, [this] { Housekeeping(); }),
        signals_(loop_, [this](bool g) { RequestShutdown(g); }) {
    io_.set_sink(this);
    limits_.max_packet = o.max_packet_size;
    housekeeping_.Arm(kHousekeepingMs);
  }

  Status Start() override {
    Status st = store_.Replay([this](const core::StoredJob& j) { core_.Restore(j); });
    if (!st.ok()) return st;
    listener_.Start(loop_, [this](int fd, const sockaddr_storage& peer) { io_.Adopt(fd, peer); });
    return Status::Ok();
  }

  int Run() override {
    LogEngine(loop_, options_);
    GB_LOG(kInfo, "Entering main event loop (one loop)");
    loop_.Run([this] { AfterTurn(); });
    listener_.Close();
    io_.FlushAndCloseAll(1000);
    return 0;
  }

  // core::Output
  void Packet(SessionId to, protocol::Command c,
              std::initializer_list<std::string_view> parts) override {
    io_.Packet(to, c, parts);
  }
  void Text(SessionId to, std::string_view text) override { io_.Append(to, text); }

  // CoreSink
  void Opened(SessionId sid, core::SessionInfo info) override { core_.Open(sid, std::move(info)); }
  void Items(SessionId sid, std::string_view run) override {
    DispatchRun(core_, sid, run, limits_);
  }
  void Fatal(SessionId sid, protocol::DecodeError e) override { core_.HandleFatal(sid, e); }
  void Closed(SessionId sid) override {
    core_.Close(sid);
    io_.Released(sid);
  }

  // core::CoreHooks
  void RequestShutdown(bool graceful) override {
    if (graceful) {
      if (!draining_) {
        draining_ = true;
        listener_.Close();
        core_.BeginDrain();
        GB_LOG(kNotice, "Graceful shutdown: waiting for {} running job(s)", core_.running_jobs());
      }
    } else {
      stop_ = true;
    }
  }

 private:
  void AfterTurn() {
    Status st = store_.Sync();
    if (!st.ok()) GB_LOG(kError, "Persistent queue sync failed: {}", st.message());
    io_.EndOfTurn();
    int64_t ms = core_.MillisUntilNextTimer();
    if (ms >= 0) {
      timer_.Arm(ms);
    } else {
      timer_.Cancel();
    }
    if (draining_ && core_.running_jobs() == 0) stop_ = true;
    if (stop_) {
      if (draining_ && core_.job_count() > 0) {
        GB_LOG(kWarning, "Shutting down with {} queued job(s) not run", core_.job_count());
      }
      loop_.Stop();
    }
  }

  void Housekeeping() {
    memory_.Check(core_.job_count());
    housekeeping_.Arm(kHousekeepingMs);
  }

  const ServerOptions& options_;
  Listener& listener_;
  core::Store& store_;
  protocol::Limits limits_;
  EventLoop loop_;  // constructed before io_ (member order)
  IoLoop io_;
  core::JobCore core_;
  Timer timer_;
  Timer housekeeping_;
  MemoryReturn memory_;
  SignalHandlers signals_;
  bool draining_ = false;
  bool stop_ = false;
};

// ---------------------------------------------------------------------------------------------
// N I/O threads + one core thread.

namespace {
struct Stop {};
struct Drain {};
struct Batch {
  uint32_t from = 0;
  std::string bytes;
};
struct NewSocket {
  int fd;
  sockaddr_storage peer;
};
using CoreMail = std::variant<Batch, Drain, Stop>;
using IoMail = std::variant<Batch, NewSocket, Stop>;
using MainMail = std::variant<Drain, Stop>;
}  // namespace

class ThreadedRuntime;

class CoreThread final : public core::Output, public core::CoreHooks {
 public:
  CoreThread(ThreadedRuntime& rt, const ServerOptions& o, core::Store& store, const Clock& clock,
             uint32_t io_threads)
      : rt_(rt),
        store_(store),
        mailbox_(loop_),
        core_(MakeCoreOptions(o), *this, store, clock, this),
        timer_(loop_, [this] { core_.Tick(); }),
        housekeeping_(loop_, [this] { Housekeeping(); }),
        out_(io_threads) {
    limits_.max_packet = o.max_packet_size;
    loop_.SetOnWake([this] { OnMail(); });
    housekeeping_.Arm(kHousekeepingMs);
  }
  Mailbox<CoreMail>& mailbox() { return mailbox_; }
  core::JobCore& core() { return core_; }
  void Run() {
    loop_.Run([this] { AfterTurn(); });
  }

  // core::Output: replies are batched per I/O thread.
  void Packet(SessionId to, protocol::Command c,
              std::initializer_list<std::string_view> parts) override {
    std::string& b = out_[to % out_.size()];
    size_t at = b.size();
    b.resize(at + kRecordHeader);
    protocol::AppendPacket(b, protocol::Magic::kResponse, c, parts);
    PutRecordHeader(b.data() + at, RecordKind::kData, to,
                    static_cast<uint32_t>(b.size() - at - kRecordHeader));
  }
  void Text(SessionId to, std::string_view text) override {
    PutRecord(out_[to % out_.size()], RecordKind::kData, to, text);
  }
  void RequestShutdown(bool graceful) override;

 private:
  void OnMail();
  void AfterTurn();
  void Housekeeping() {
    memory_.Check(core_.job_count());
    housekeeping_.Arm(kHousekeepingMs);
  }

  ThreadedRuntime& rt_;
  core::Store& store_;
  protocol::Limits limits_;
  EventLoop loop_;
  Mailbox<CoreMail> mailbox_;
  core::JobCore core_;
  Timer timer_;
  Timer housekeeping_;
  MemoryReturn memory_;
  std::vector<std::string> out_;
  bool draining_ = false;
  bool drained_sent_ = false;
};

class IoThread final : public CoreSink {
 public:
  IoThread(ThreadedRuntime& rt, const ServerOptions& o, uint32_t index, uint32_t count)
      : rt_(rt),
        loop_(o.io_engine != "epoll"),
        mailbox_(loop_),
        io_(loop_, MakeIoConfig(o), index, count),
        index_(index) {
    io_.set_sink(this);
    loop_.SetOnWake([this] { OnMail(); });
  }
  Mailbox<IoMail>& mailbox() { return mailbox_; }
  EventLoop& loop() { return loop_; }
  void Run() {
    loop_.Run([this] { io_.EndOfTurn(); });
    io_.FlushAndCloseAll(1000);
  }

  // CoreSink: everything goes into this turn's batch for the core thread.
  void Opened(SessionId sid, core::SessionInfo info) override {
    std::string payload(5, '\0');
    uint32_t fd = static_cast<uint32_t>(info.fd);
    std::memcpy(payload.data(), &fd, 4);
    payload[4] = info.loopback ? 1 : 0;
    payload += info.peer;
    PutRecord(pending_, RecordKind::kOpen, sid, payload);
  }
  void Items(SessionId sid, std::string_view run) override {
    PutRecord(pending_, RecordKind::kItems, sid, run);
  }
  void Fatal(SessionId sid, protocol::DecodeError e) override {
    char b = static_cast<char>(e);
    PutRecord(pending_, RecordKind::kFatal, sid, std::string_view(&b, 1));
  }
  void Closed(SessionId sid) override { PutRecord(pending_, RecordKind::kClosed, sid, {}); }
  void EndOfTurn() override;

 private:
  void OnMail() {
    for (auto& m : mailbox_.Take()) {
      if (auto* b = std::get_if<Batch>(&m)) {
        ForEachRecord(b->bytes, [this](RecordKind k, uint32_t sid, std::string_view payload) {
          if (k == RecordKind::kData) {
            io_.Append(sid, payload);
          } else if (k == RecordKind::kReleased) {
            io_.Released(sid);
          }
        });
      } else if (auto* s = std::get_if<NewSocket>(&m)) {
        io_.Adopt(s->fd, s->peer);
      } else {
        loop_.Stop();  // Run() then writes what the core produced, for up to a second
      }
    }
  }

  ThreadedRuntime& rt_;
  EventLoop loop_;
  Mailbox<IoMail> mailbox_;
  IoLoop io_;
  uint32_t index_;
  std::string pending_;
};

class ThreadedRuntime final : public Runtime {
 public:
  ThreadedRuntime(const ServerOptions& o, Listener& listener, core::Store& store,
                  const Clock& clock, int threads)
      : options_(o), listener_(listener), main_mail_(main_loop_) {
    core_ = std::make_unique<CoreThread>(*this, o, store, clock, static_cast<uint32_t>(threads));
    for (int i = 0; i < threads; ++i) {
      io_.push_back(std::make_unique<IoThread>(*this, o, static_cast<uint32_t>(i),
                                               static_cast<uint32_t>(threads)));
    }
    store_ = &store;
    main_loop_.SetOnWake([this] { OnMainMail(); });
  }

  Status Start() override {
    Status st = store_->Replay([this](const core::StoredJob& j) { core_->core().Restore(j); });
    if (!st.ok()) return st;
    listener_.Start(main_loop_, [this](int fd, const sockaddr_storage& peer) {
      io_[next_++ % io_.size()]->mailbox().Post(NewSocket{fd, peer});
    });
    return Status::Ok();
  }

  int Run() override {
    signals_ = std::make_unique<SignalHandlers>(main_loop_, [this](bool g) { Shutdown(g); });
    std::thread core_thread([this] { core_->Run(); });
    std::vector<std::thread> io_threads;
    for (auto& t : io_)
      io_threads.emplace_back([&t] { t->Run(); });
    LogEngine(io_[0]->loop(), options_);
    GB_LOG(kInfo, "Entering main event loop ({} I/O threads and a core thread)", io_.size());
    main_loop_.Run(nullptr);
    listener_.Close();
    // Stop the core first (it flushes its last replies into the I/O mailboxes), then I/O.
    core_->mailbox().Post(Stop{});
    core_thread.join();
    for (auto& t : io_)
      t->mailbox().Post(Stop{});
    for (auto& t : io_threads)
      t.join();
    signals_.reset();
    return 0;
  }

  // Called on any thread: the main loop does the work.
  void PostMain(MainMail m) { main_mail_.Post(std::move(m)); }
  CoreThread& core_thread() { return *core_; }
  IoThread& io(uint32_t i) { return *io_[i]; }
  size_t io_count() const { return io_.size(); }

 private:
  void Shutdown(bool graceful) {
    if (graceful) {
      listener_.Close();
      core_->mailbox().Post(Drain{});
    } else {
      main_loop_.Stop();
    }
  }
  void OnMainMail() {
    for (auto& m : main_mail_.Take()) {
      if (std::holds_alternative<Drain>(m)) {
        listener_.Close();
        core_->mailbox().Post(Drain{});
      } else {
        main_loop_.Stop();
      }
    }
  }

  const ServerOptions& options_;
  Listener& listener_;
  core::Store* store_ = nullptr;
  EventLoop main_loop_;
  Mailbox<MainMail> main_mail_;
  std::unique_ptr<CoreThread> core_;
  std::vector<std::unique_ptr<IoThread>> io_;
  std::unique_ptr<SignalHandlers> signals_;
  size_t next_ = 0;
};

void CoreThread::RequestShutdown(bool graceful) {
  if (graceful) {
    rt_.PostMain(Drain{});
  } else {
    rt_.PostMain(Stop{});
  }
}

void CoreThread::OnMail() {
  for (auto& m : mailbox_.Take()) {
    if (auto* b = std::get_if<Batch>(&m)) {
      ForEachRecord(b->bytes, [this](RecordKind k, uint32_t sid, std::string_view payload) {
        switch (k) {
          case RecordKind::kOpen: {
            core::SessionInfo info;
            uint32_t fd;
            std::memcpy(&fd, payload.data(), 4);
            info.fd = static_cast<int>(fd);
            info.loopback = payload[4] != 0;
            info.peer.assign(payload.substr(5));
            core_.Open(sid, std::move(info));
            break;
          }
          case RecordKind::kItems:
            DispatchRun(core_, sid, payload, limits_);
            break;
          case RecordKind::kFatal:
            core_.HandleFatal(sid, static_cast<protocol::DecodeError>(payload[0]));
            break;
          case RecordKind::kClosed:
            core_.Close(sid);
            PutRecord(out_[sid % out_.size()], RecordKind::kReleased, sid, {});
            break;
          default:
            break;
        }
      });
    } else if (std::holds_alternative<Drain>(m)) {
      if (!draining_) {
        draining_ = true;
        core_.BeginDrain();
        GB_LOG(kNotice, "Graceful shutdown: waiting for {} running job(s)", core_.running_jobs());
      }
    } else {
      AfterTurn();
      loop_.Stop();
    }
  }
}

void CoreThread::AfterTurn() {
  Status st = store_.Sync();
  if (!st.ok()) GB_LOG(kError, "Persistent queue sync failed: {}", st.message());
  for (uint32_t i = 0; i < out_.size(); ++i) {
    if (out_[i].empty()) continue;
    Batch b;
    b.bytes.swap(out_[i]);
    rt_.io(i).mailbox().Post(std::move(b));
  }
  int64_t ms = core_.MillisUntilNextTimer();
  if (ms >= 0) {
    timer_.Arm(ms);
  } else {
    timer_.Cancel();
  }
  if (draining_ && !drained_sent_ && core_.running_jobs() == 0) {
    drained_sent_ = true;
    if (core_.job_count() > 0) {
      GB_LOG(kWarning, "Shutting down with {} queued job(s) not run", core_.job_count());
    }
    rt_.PostMain(Stop{});
  }
}

void IoThread::EndOfTurn() {
  if (!pending_.empty()) {
    Batch b;
    b.from = index_;
    b.bytes.swap(pending_);
    rt_.core_thread().mailbox().Post(std::move(b));
  }
}

// ---------------------------------------------------------------------------------------------

Server::Server(const ServerOptions& options) : options_(options) {
  store_ = std::make_unique<core::MemoryStore>();
}

Server::~Server() = default;

Status Server::Bind() {
  ListenConfig lc;
  lc.hosts = options_.listen;
  lc.port = options_.port;
  lc.backlog = options_.backlog;
  lc.keepalive = options_.keepalive;
  lc.keepalive_idle = options_.keepalive_idle;
  lc.keepalive_interval = options_.keepalive_interval;
  lc.keepalive_count = options_.keepalive_count;
  return listener_.Bind(lc);
}

Status Server::Start() {
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int t = options_.threads;
  if (t == 0) t = cpus > 4 ? cpus - 1 : 1;  // gearmand's rule, leaving a CPU for the core
  // Threads beyond the CPUs only add context switches: every batch between an I/O thread and
  // the core thread would wait for a CPU. Use at most CPUs-1 I/O threads (plus the core
  // thread), and one event loop when that leaves fewer than two (docs/design/threading.md).
  if (t > 1 && !options_.threads_exact && t > cpus - 1) {
    int capped = cpus - 1 >= 2 ? cpus - 1 : 1;
    GB_LOG(kNotice, "-t {}: this machine has {} CPUs; using {}", t, cpus,
           capped > 1 ? std::to_string(capped) + " I/O threads" : std::string("one event loop"));
    t = capped;
  }
  if (t <= 1) {
    io_threads_ = 0;
    runtime_ = std::make_unique<SingleLoopRuntime>(options_, listener_, *store_, clock_);
  } else {
    io_threads_ = t;
    runtime_ = std::make_unique<ThreadedRuntime>(options_, listener_, *store_, clock_, t);
  }
  return runtime_->Start();
}

int Server::Run() {
  return runtime_->Run();
}

}  // namespace gearbox::server
