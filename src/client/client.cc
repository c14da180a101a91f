// Client: placement of requests on servers, the poll() loop, failover and timeouts. The
// per-connection reply matching lives in ClientSession.
#include "gearbox/client.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>

#include "client/client_session.h"
#include "client/connection.h"
#include "client/hash_ring.h"
#include "client/task.h"

namespace gearbox {

using client::Clock;
using client::Connection;
using client::Time;
using internal::TaskImpl;
using protocol::Command;

namespace {

constexpr size_t kMaxFunctionSize = 512;
constexpr size_t kOutputHighWater = 4 * 1024 * 1024;

std::string MsText(Millis ms) {
  return std::to_string(ms.count()) + " ms";
}

Expected<void> CheckName(std::string_view what, std::string_view name, bool allow_empty = false) {
  if (name.empty() && !allow_empty) {
    return Error(Errc::kInvalidArgument, std::string(what) + " must not be empty");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Error(Errc::kInvalidArgument, std::string(what) + " must not contain NUL bytes");
  }
  if (name.size() > kMaxFunctionSize) {
    return Error(Errc::kInvalidArgument, std::string(what) + " is " + std::to_string(name.size()) +
                                             " bytes; the limit is " +
                                             std::to_string(kMaxFunctionSize));
  }
  return {};
}

Expected<void> CheckUnique(std::string_view unique) {
  if (unique.size() > kMaxUniqueSize) {
    return Error(Errc::kInvalidArgument, "unique key is " + std::to_string(unique.size()) +
                                             " bytes; Gearman servers keep at most " +
                                             std::to_string(kMaxUniqueSize) +
                                             " (use gearbox::PayloadKey() or a shorter key)");
  }
  if (unique.find('\0') != std::string_view::npos) {
    return Error(Errc::kInvalidArgument, "unique key must not contain NUL bytes");
  }
  return {};
}

Command SubmitCommand(Priority p, bool background) {
  switch (p) {
    case Priority::kHigh:
      return background ? Command::kSubmitJobHighBg : Command::kSubmitJobHigh;
    case Priority::kLow:
      return background ? Command::kSubmitJobLowBg : Command::kSubmitJobLow;
    case Priority::kNormal:
      break;
  }
  return background ? Command::kSubmitJobBg : Command::kSubmitJob;
}

}  // namespace

struct ServerSlot {
  ServerSlot(size_t i, ServerAddress address, LogFn log)
      : index(i), conn(std::move(address)), session(conn.name(), std::move(log)) {}

  size_t index;
  Connection conn;
  client::ClientSession session;
  std::deque<std::shared_ptr<TaskImpl>> to_send;  // placed here, not yet written
  Time connect_deadline{};
  Time last_progress{};  // last byte received, or first request written after a quiet spell
  Time down_until{};     // reconnect backoff: not chosen for new requests before this
  Millis backoff{0};
  std::string last_error;
  bool handshaken = false;
};

struct Client::Impl {
  ClientOptions opts;
  std::vector<ServerAddress> servers;
  std::vector<std::unique_ptr<ServerSlot>> slots;
  client::HashRing ring;
  size_t round_robin = 0;
  size_t unfinished = 0;  // job tasks not finished
  bool in_loop = false;
  int wake_fd = -1;
  std::atomic<bool> interrupted{false};

  Impl(ClientOptions o, std::vector<ServerAddress> list, std::vector<std::string> names)
      : opts(std::move(o)), servers(std::move(list)), ring(names) {
    for (size_t i = 0; i < servers.size(); ++i) {
      slots.push_back(std::make_unique<ServerSlot>(i, servers[i], opts.log));
      slots.back()->backoff = opts.reconnect_backoff_min;
    }
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }

  ~Impl() {
    // Tasks may outlive the client through Task handles; they must not call back into it.
    for (auto& s : slots) {
      for (auto& t : s->to_send)
        t->on_finished = nullptr;
      for (auto& t : s->session.TakeAll())
        t->on_finished = nullptr;
    }
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void Log(const std::string& m) const {
    if (opts.log) opts.log(m);
  }

  // ---- Placement -------------------------------------------------------------------------

  std::vector<size_t> Candidates(const TaskImpl& t) {
    std::vector<size_t> order;
    if (t.pinned_server) {
      order.push_back(*t.pinned_server);
    } else if (!t.placement_key.empty()) {
      order = ring.Order(t.placement_key);
    } else if (t.kind == TaskImpl::Kind::kEcho) {
      for (size_t i = 0; i < slots.size(); ++i)
        order.push_back(i);
    } else {
      size_t start = round_robin++ % slots.size();
      for (size_t i = 0; i < slots.size(); ++i)
        order.push_back((start + i) % slots.size());
    }
    return order;
  }

  void Place(const std::shared_ptr<TaskImpl>& t) {
    if (t->tried.size() != slots.size()) t->tried.assign(slots.size(), false);
    Time now = Clock::now();
    for (size_t s : Candidates(*t)) {
      ServerSlot& slot = *slots[s];
      if (t->tried[s]) continue;
      if (slot.conn.state() == Connection::State::kClosed && now < slot.down_until) continue;
      t->server = s;
      t->server_name = slot.conn.name();
      t->state = TaskState::kPending;
      slot.to_send.push_back(t);
      return;
    }
    // Nowhere to go: say why for each server.
    std::string why;
    for (size_t s : Candidates(*t)) {
      ServerSlot& slot = *slots[s];
      if (!why.empty()) why += "; ";
      why += slot.conn.name() + ": " +
             (slot.last_error.empty() ? std::string("unavailable") : slot.last_error);
      if (now < slot.down_until) {
        auto left = std::chrono::duration_cast<Millis>(slot.down_until - now);
        why += " (next attempt in " + MsText(left) + ")";
      }
    }
    t->Fail(Error(Errc::kConnectFailed,
                  "no Gearman server could take the " + t->Describe() + " [" + why +
                      "]; check that the servers are running and the addresses are right"));
  }

  // ---- Connection events -----------------------------------------------------------------

  void StartConnect(ServerSlot& slot, Time now) {
    slot.handshaken = false;
    auto r = slot.conn.StartConnect();
    if (!r.ok()) {
      ConnectFailed(slot, r.error().message(), now);
      return;
    }
    slot.connect_deadline = now + opts.connect_timeout;
    if (slot.conn.state() == Connection::State::kConnected) Connected(slot, now);
  }

  void Connected(ServerSlot& slot, Time now) {
    slot.backoff = opts.reconnect_backoff_min;
    slot.last_error.clear();
    slot.last_progress = now;
    Log("connected to " + slot.conn.name());
    // Handshake first, ahead of everything placed on this server.
    if (!opts.client_id.empty())
      client::ClientSession::SendClientId(opts.client_id, slot.conn.out());
    if (opts.exceptions) {
      auto opt = std::make_shared<TaskImpl>();
      opt->kind = TaskImpl::Kind::kOption;
      opt->payload = "exceptions";
      opt->server = slot.index;
      opt->server_name = slot.conn.name();
      slot.session.Send(opt, slot.conn.out());
    }
    slot.handshaken = true;
  }

  void ConnectFailed(ServerSlot& slot, const std::string& why, Time now) {
    slot.conn.Close();
    slot.session.TakeAll();  // only the handshake can be in there
    slot.last_error = why;
    slot.down_until = now + slot.backoff;
    Log(why + "; not trying " + slot.conn.name() + " again for " + MsText(slot.backoff));
    slot.backoff = std::min(slot.backoff * 2, opts.reconnect_backoff_max);
    Replace(slot);
  }

  // Moves requests that never reached this server to other servers.
  void Replace(ServerSlot& slot) {
    auto pending = std::move(slot.to_send);
    slot.to_send.clear();
    for (auto& t : pending) {
      if (t->tried.size() != slots.size()) t->tried.assign(slots.size(), false);
      t->tried[slot.index] = true;
      if (t->abandoned) {
        t->Fail(Error(Errc::kTimeout, "abandoned"));
        continue;
      }
      Place(t);
    }
  }

  void Lost(ServerSlot& slot, const Error& why, Time now) {
    slot.conn.Close();
    slot.handshaken = false;
    slot.last_error = why.message();
    if (why.code() == Errc::kTimeout) {
      slot.down_until = now + slot.backoff;
      slot.backoff = std::min(slot.backoff * 2, opts.reconnect_backoff_max);
    }
    Log("lost " + slot.conn.name() + ": " + why.message());
    for (auto& t : slot.session.TakeAll()) {
      if (t->kind == TaskImpl::Kind::kOption) continue;
      bool accepted = t->state == TaskState::kQueued;
      std::string what =
          accepted ? "the server had accepted it, and its result can no longer arrive"
                   : "the request was sent, so the server may or may not have acted on it";
      Errc code = why.code() == Errc::kTimeout || why.code() == Errc::kProtocolError
                      ? why.code()
                      : Errc::kConnectionLost;
      t->Fail(Error(code,
                    "lost the connection to " + slot.conn.name() + " (" + why.message() +
                        ") while waiting for the " + t->Describe() + "; " + what,
                    {}, slot.conn.name()));
    }
    Replace(slot);
  }

  // Writes placed requests while the output queue is not too full.
  void Pump(ServerSlot& slot, Time now) {
    while (!slot.to_send.empty() && slot.conn.out().size() < kOutputHighWater) {
      auto t = slot.to_send.front();
      slot.to_send.pop_front();
      if (t->abandoned) {
        t->Fail(Error(Errc::kTimeout, "abandoned"));
        continue;
      }
      if (slot.session.awaiting_reply() == 0) slot.last_progress = now;
      slot.session.Send(t, slot.conn.out());
    }
  }

  void OnReadable(ServerSlot& slot, Time now) {
    auto r = slot.conn.Read();
    // Handle whatever arrived before a close.
    protocol::Frame f;
    while (slot.conn.state() == Connection::State::kConnected) {
      auto n = slot.conn.Next(&f);
      if (!n.ok()) {
        Lost(slot, n.error(), now);
        return;
      }
      if (!*n) break;
      slot.last_progress = now;
      auto h = slot.session.OnPacket(f);
      if (!h.ok()) {
        Lost(slot, h.error(), now);
        return;
      }
    }
    if (!r.ok()) Lost(slot, r.error(), now);
  }

  void CheckTimers(Time now) {
    for (auto& sp : slots) {
      ServerSlot& slot = *sp;
      if (slot.conn.state() == Connection::State::kConnecting && now >= slot.connect_deadline) {
        ConnectFailed(slot,
                      "connecting to " + slot.conn.name() + " timed out after " +
                          MsText(opts.connect_timeout),
                      now);
      } else if (slot.conn.state() == Connection::State::kConnected &&
                 slot.session.awaiting_reply() > 0 && now >= slot.last_progress + opts.io_timeout) {
        Lost(slot,
             Error(Errc::kTimeout,
                   slot.conn.name() + " sent no reply within " + MsText(opts.io_timeout)),
             now);
      }
    }
  }

  // ---- The loop --------------------------------------------------------------------------

  Expected<void> Drive(const std::function<bool()>& done, std::optional<Millis> timeout) {
    if (in_loop) {
      return Error(Errc::kInvalidArgument,
                   "a blocking Client call was made from inside a Client callback; only "
                   "AddTask() may be called there");
    }
    in_loop = true;
    struct Reset {
      bool* flag;
      ~Reset() { *flag = false; }
    } reset{&in_loop};
    if (!timeout) timeout = opts.timeout;
    std::optional<Time> deadline;
    if (timeout) deadline = Clock::now() + *timeout;
    std::vector<pollfd> fds;
    std::vector<ServerSlot*> fd_slots;
    while (true) {
      if (done()) return {};
      if (interrupted.exchange(false)) {
        return Error(Errc::kStopped, "the call was interrupted (Client::Interrupt)");
      }
      Time now = Clock::now();
      CheckTimers(now);
      for (auto& sp : slots) {
        ServerSlot& slot = *sp;
        // A connection that sat idle may have been closed by a server that restarted since:
        // find out before writing a request into it.
        if (!slot.to_send.empty() && slot.conn.state() == Connection::State::kConnected &&
            slot.session.idle() && slot.conn.PeerClosed()) {
          Log(slot.conn.name() + " closed the idle connection; reconnecting");
          slot.conn.Close();
          slot.session.TakeAll();
        }
        if (!slot.to_send.empty() && slot.conn.state() == Connection::State::kClosed) {
          StartConnect(slot, now);
        }
        if (slot.conn.state() == Connection::State::kConnected) Pump(slot, now);
      }
      if (done()) return {};
      if (deadline && now >= *deadline) {
        return Error(Errc::kTimeout,
                     "the call did not finish within " + MsText(*timeout) + " (timeout)");
      }
      fds.clear();
      fd_slots.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      fd_slots.push_back(nullptr);
      std::optional<Time> wake_at = deadline;
      auto earlier = [&](Time t) {
        if (!wake_at || t < *wake_at) wake_at = t;
      };
      for (auto& sp : slots) {
        ServerSlot& slot = *sp;
        short ev = slot.conn.PollEvents();
        if (ev == 0) continue;
        fds.push_back({slot.conn.fd(), ev, 0});
        fd_slots.push_back(&slot);
        if (slot.conn.state() == Connection::State::kConnecting) earlier(slot.connect_deadline);
        if (slot.conn.state() == Connection::State::kConnected &&
            slot.session.awaiting_reply() > 0) {
          earlier(slot.last_progress + opts.io_timeout);
        }
      }
      if (fds.size() == 1 && !wake_at) {
        // Nothing can make progress: every remaining task would wait forever.
        return Error(Errc::kConnectionLost, "no server connection is left to wait on");
      }
      int wait_ms = -1;
      if (wake_at) {
        auto left = std::chrono::duration_cast<Millis>(*wake_at - now).count() + 1;
        wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 60'000));
      }
      int n = ::poll(fds.data(), fds.size(), wait_ms);
      if (n < 0) continue;  // EINTR
      now = Clock::now();
      if (fds[0].revents != 0) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd, &v, sizeof(v));
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        ServerSlot& slot = *fd_slots[i];
        short re = fds[i].revents;
        if (re == 0 || slot.conn.fd() != fds[i].fd) continue;
        if (slot.conn.state() == Connection::State::kConnecting) {
          auto c = slot.conn.ContinueConnect();
          if (!c.ok()) {
            ConnectFailed(slot, c.error().message(), now);
          } else if (*c) {
            Connected(slot, now);
          }
          continue;
        }
        if (re & (POLLIN | POLLHUP | POLLERR)) OnReadable(slot, now);
        if (slot.conn.state() == Connection::State::kConnected && (re & POLLOUT)) {
          auto w = slot.conn.Flush();
          if (!w.ok()) Lost(slot, w.error(), now);
        }
      }
      // Write what became ready this turn without waiting for another POLLOUT.
      for (auto& sp : slots) {
        if (sp->conn.state() == Connection::State::kConnected && sp->conn.wants_write()) {
          Pump(*sp, now);
          auto w = sp->conn.Flush();
          if (!w.ok()) Lost(*sp, w.error(), now);
        }
      }
    }
  }

  // Runs until `t` finishes; on timeout or interrupt abandons it.
  Expected<void> RunOne(const std::shared_ptr<TaskImpl>& t, std::optional<Millis> timeout) {
    auto r = Drive([&] { return t->finished(); }, timeout);
    if (!r.ok()) {
      t->abandoned = true;
      t->Fail(r.error());
      return r.error();
    }
    if (t->state == TaskState::kFailed) return *t->error;
    return {};
  }

  // ---- Building tasks --------------------------------------------------------------------

  Expected<std::shared_ptr<TaskImpl>> MakeJob(TaskSpec spec) {
    if (auto c = CheckName("function name", spec.function); !c.ok()) return c.error();
    if (!spec.reducer.empty()) {
      if (auto c = CheckName("reducer name", spec.reducer); !c.ok()) return c.error();
    }
    auto t = std::make_shared<TaskImpl>();
    t->kind = TaskImpl::Kind::kJob;
    bool epoch = spec.when.has_value();
    t->background = spec.background || epoch;
    if (epoch) {
      t->command = Command::kSubmitJobEpoch;
      auto secs =
          std::chrono::duration_cast<std::chrono::seconds>(spec.when->time_since_epoch()).count();
      t->epoch = std::to_string(secs < 0 ? 0 : secs);
    } else if (!spec.reducer.empty()) {
      t->command = t->background ? Command::kSubmitReduceJobBackground : Command::kSubmitReduceJob;
    } else {
      t->command = SubmitCommand(spec.priority, t->background);
    }
    t->unique = spec.unique.Resolve(spec.payload, t->background);
    if (auto c = CheckUnique(t->unique); !c.ok()) return c.error();
    if (!t->unique.empty()) t->placement_key = t->unique == "-" ? spec.payload : t->unique;
    if (t->placement_key.empty() && !t->unique.empty()) t->placement_key = "-";
    t->function = std::move(spec.function);
    t->payload = std::move(spec.payload);
    t->reducer = std::move(spec.reducer);
    t->handlers = std::move(spec.handlers);
    return t;
  }

  void Submit(const std::shared_ptr<TaskImpl>& t) {
    ++unfinished;
    t->on_finished = [this](TaskImpl&) { --unfinished; };
    Place(t);
  }

  std::shared_ptr<TaskImpl> MakeQuery(TaskImpl::Kind kind, std::string_view arg,
                                      std::optional<size_t> pin) {
    auto t = std::make_shared<TaskImpl>();
    t->kind = kind;
    t->payload.assign(arg);
    t->pinned_server = pin;
    return t;
  }

  // Sends one query per server and waits for all of them.
  Expected<JobStatus> AskAll(TaskImpl::Kind kind, std::string_view arg,
                             std::optional<Millis> timeout) {
    std::vector<std::shared_ptr<TaskImpl>> qs;
    for (size_t i = 0; i < slots.size(); ++i) {
      qs.push_back(MakeQuery(kind, arg, i));
      Place(qs.back());
    }
    auto r = Drive(
        [&] { return std::all_of(qs.begin(), qs.end(), [](auto& q) { return q->finished(); }); },
        timeout);
    if (!r.ok()) {
      for (auto& q : qs) {
        q->abandoned = true;
        q->Fail(r.error());
      }
      return r.error();
    }
    std::optional<JobStatus> unknown;
    std::string errors;
    for (auto& q : qs) {
      if (q->state == TaskState::kDone) {
        if (q->status.known) return q->status;
        unknown = q->status;
      } else {
        if (!errors.empty()) errors += "; ";
        errors += q->error->message();
      }
    }
    if (unknown) return *unknown;
    return Error(Errc::kConnectFailed, "no server answered the status request: " + errors);
  }
};

// ---- Client ----------------------------------------------------------------------------------

Expected<Client> Client::Create(ClientOptions options) {
  auto list = ResolveServerList(options.servers, options.read_environment);
  if (!list.ok()) return list.error();
  if (options.connect_timeout.count() <= 0 || options.io_timeout.count() <= 0) {
    return Error(Errc::kInvalidArgument, "connect_timeout and io_timeout must be positive");
  }
  if (options.reconnect_backoff_min.count() <= 0 ||
      options.reconnect_backoff_max < options.reconnect_backoff_min) {
    return Error(Errc::kInvalidArgument,
                 "reconnect_backoff_min must be positive and not above reconnect_backoff_max");
  }
  if (auto c = CheckName("client id", options.client_id, true); !c.ok()) return c.error();
  std::vector<std::string> names;
  for (auto& a : *list)
    names.push_back(a.ToString());
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*list), std::move(names));
  if (impl->wake_fd < 0) {
    return Error(Errc::kInvalidArgument, "eventfd() failed: " + client::ErrnoText(errno));
  }
  return Client(std::move(impl));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Expected<std::string> Client::Do(std::string_view function, std::string_view payload,
                                 const CallOptions& options) {
  TaskSpec spec;
  spec.function.assign(function);
  spec.payload.assign(payload);
  spec.unique = options.unique;
  spec.priority = options.priority;
  if (options.on_data) {
    spec.handlers.on_data = [f = options.on_data](const Task&, std::string_view d) { f(d); };
  }
  if (options.on_warning) {
    spec.handlers.on_warning = [f = options.on_warning](const Task&, std::string_view d) { f(d); };
  }
  if (options.on_status) {
    spec.handlers.on_status = [f = options.on_status](const Task&, uint32_t n, uint32_t d) {
      f(n, d);
    };
  }
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  (*t)->collect_data = !options.on_data;
  impl_->Submit(*t);
  auto r = impl_->RunOne(*t, options.timeout);
  if (!r.ok()) return r.error();
  return std::move((*t)->result);
}

Expected<JobHandle> Client::DoBackground(std::string_view function, std::string_view payload,
                                         const CallOptions& options) {
  TaskSpec spec;
  spec.function.assign(function);
  spec.payload.assign(payload);
  spec.unique = options.unique;
  spec.priority = options.priority;
  spec.background = true;
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  impl_->Submit(*t);
  auto r = impl_->RunOne(*t, options.timeout);
  if (!r.ok()) return r.error();
  return JobHandle{(*t)->handle, (*t)->server_name};
}

Expected<JobHandle> Client::DoAt(std::string_view function, std::string_view payload,
                                 std::chrono::system_clock::time_point when,
                                 const CallOptions& options) {
  TaskSpec spec;
  spec.function.assign(function);
  spec.payload.assign(payload);
  spec.unique = options.unique;
  spec.when = when;
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  impl_->Submit(*t);
  auto r = impl_->RunOne(*t, options.timeout);
  if (!r.ok()) return r.error();
  return JobHandle{(*t)->handle, (*t)->server_name};
}

Expected<std::string> Client::Reduce(std::string_view function, std::string_view reducer,
                                     std::string_view payload, const CallOptions& options) {
  if (reducer.empty()) return Error(Errc::kInvalidArgument, "reducer name must not be empty");
  TaskSpec spec;
  spec.function.assign(function);
  spec.reducer.assign(reducer);
  spec.payload.assign(payload);
  spec.unique = options.unique;
  if (options.on_data) {
    spec.handlers.on_data = [f = options.on_data](const Task&, std::string_view d) { f(d); };
  }
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  (*t)->collect_data = !options.on_data;
  impl_->Submit(*t);
  auto r = impl_->RunOne(*t, options.timeout);
  if (!r.ok()) return r.error();
  return std::move((*t)->result);
}

Expected<JobHandle> Client::ReduceBackground(std::string_view function, std::string_view reducer,
                                             std::string_view payload, const CallOptions& options) {
  if (reducer.empty()) return Error(Errc::kInvalidArgument, "reducer name must not be empty");
  TaskSpec spec;
  spec.function.assign(function);
  spec.reducer.assign(reducer);
  spec.payload.assign(payload);
  spec.unique = options.unique;
  spec.background = true;
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  impl_->Submit(*t);
  auto r = impl_->RunOne(*t, options.timeout);
  if (!r.ok()) return r.error();
  return JobHandle{(*t)->handle, (*t)->server_name};
}

Expected<JobStatus> Client::GetStatus(const JobHandle& job, std::optional<Millis> timeout) {
  if (auto c = CheckName("job handle", job.handle); !c.ok()) return c.error();
  for (auto& slot : impl_->slots) {
    if (slot->conn.name() != job.server) continue;
    auto q = impl_->MakeQuery(TaskImpl::Kind::kStatus, job.handle, slot->index);
    impl_->Place(q);
    auto r = impl_->RunOne(q, timeout);
    if (!r.ok()) return r.error();
    return q->status;
  }
  return Error(Errc::kInvalidArgument, "server '" + job.server + "' of job handle '" + job.handle +
                                           "' is not in this client's server list");
}

Expected<JobStatus> Client::GetStatus(std::string_view handle, std::optional<Millis> timeout) {
  if (auto c = CheckName("job handle", handle); !c.ok()) return c.error();
  return impl_->AskAll(TaskImpl::Kind::kStatus, handle, timeout);
}

Expected<JobStatus> Client::GetStatusByUnique(std::string_view unique,
                                              std::optional<Millis> timeout) {
  if (unique.empty()) return Error(Errc::kInvalidArgument, "unique key must not be empty");
  if (auto c = CheckUnique(unique); !c.ok()) return c.error();
  return impl_->AskAll(TaskImpl::Kind::kStatusUnique, unique, timeout);
}

Expected<std::string> Client::Echo(std::string_view payload, std::optional<Millis> timeout) {
  auto q = impl_->MakeQuery(TaskImpl::Kind::kEcho, payload, std::nullopt);
  impl_->Place(q);
  auto r = impl_->RunOne(q, timeout);
  if (!r.ok()) return r.error();
  return std::move(q->result);
}

Expected<Task> Client::AddTask(TaskSpec spec) {
  auto t = impl_->MakeJob(std::move(spec));
  if (!t.ok()) return t.error();
  impl_->Submit(*t);
  return Task(*t);
}

Expected<void> Client::RunTasks(std::optional<Millis> timeout) {
  return impl_->Drive([this] { return impl_->unfinished == 0; }, timeout);
}

Expected<void> Client::Wait(const Task& task, std::optional<Millis> timeout) {
  if (!task.valid()) return Error(Errc::kInvalidArgument, "Wait() on an empty Task");
  auto impl = task.impl_;
  return impl_->Drive([&] { return impl->finished(); }, timeout);
}

size_t Client::pending_tasks() const {
  return impl_->unfinished;
}

void Client::Interrupt() {
  impl_->interrupted.store(true);
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(impl_->wake_fd, &one, sizeof(one));
}

const std::vector<ServerAddress>& Client::servers() const {
  return impl_->servers;
}

const ServerAddress& Client::ServerForUnique(std::string_view unique) const {
  return impl_->servers[impl_->ring.Owner(unique)];
}

}  // namespace gearbox
