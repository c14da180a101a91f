// JobCore: all Gearman job state and the rules that move jobs between clients and workers.
// Pure: no sockets, no threads, no system calls. Frames come in through Handle*(); replies go
// out through the Output interface; durability goes through Store; time comes from Clock.
// Owned by exactly one thread (the single event loop with -t 1, else the core thread); every
// method must be called from that thread. See docs/design/job-lifecycle.md.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "core/cron.h"
#include "core/entities.h"
#include "core/handle_index.h"
#include "core/ptr_table.h"
#include "core/store.h"
#include "protocol/admin.h"
#include "protocol/codec.h"

namespace gearbox::core {

struct CoreOptions {
  std::string handle_prefix = "H:localhost";  // handles are "<prefix>:<n>" (at most 42 bytes)
  int job_retries = -1;        // attempts before a job is dropped: -1 unlimited, 0 = 1 attempt
  uint32_t worker_wakeup = 0;  // NOOPs sent per newly runnable job; 0 = every sleeping worker
  bool exceptions = false;     // --exceptions: every connection starts with the option on
  int pid = 0;                 // for the `getpid` admin command
  std::string version;         // for the `version` admin command
  size_t max_unique = 64;      // GEARMAN_MAX_UNIQUE_SIZE
  size_t max_function = 512;   // GEARMAN_FUNCTION_MAX_SIZE
  size_t max_client_id = 255;  // SET_CLIENT_ID is cut to this many bytes
};

// Where the core's replies go. The server appends them to the session's output and flushes
// once per loop turn. Implementations are called on the core's thread only.
class Output {
 public:
  virtual ~Output() = default;
  virtual void Packet(SessionId to, protocol::Command command,
                      std::initializer_list<std::string_view> parts) = 0;
  virtual void Text(SessionId to, std::string_view text) = 0;
};

// Requests the core makes of the process (admin `shutdown`, `verbose`).
class CoreHooks {
 public:
  virtual ~CoreHooks() = default;
  virtual void RequestShutdown(bool graceful) = 0;
};

struct CoreCounters {
  uint64_t submitted = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t exceptions = 0;
  uint64_t requeued = 0;
  uint64_t dropped = 0;
  uint64_t timeouts = 0;
};

class JobCore {
 public:
  JobCore(CoreOptions options, Output& out, Store& store, const Clock& clock,
          CoreHooks* hooks = nullptr);
  ~JobCore();
  JobCore(const JobCore&) = delete;
  JobCore& operator=(const JobCore&) = delete;

  // Session lifecycle. Ids are chosen by the server and may be reused after Close().
  void Open(SessionId id, SessionInfo info);
  void Close(SessionId id);

  void HandlePacket(SessionId id, const protocol::Frame& frame);
  void HandleText(SessionId id, std::string_view line);
  // A packet the decoder framed but could not use (unknown type, too few arguments).
  void HandleBadPacket(SessionId id, protocol::DecodeError error, uint32_t type);
  // The stream cannot be framed any more (bad magic, oversized packet, endless line): the
  // session gets an error reply; the server closes the connection after writing it.
  void HandleFatal(SessionId id, protocol::DecodeError error);

  // Timers: epoch jobs falling due, CAN_DO_TIMEOUT expiry, cron schedules.
  void Tick();
  // Milliseconds until Tick() has work, or -1 when no timer is pending.
  int64_t MillisUntilNextTimer() const;

  // Re-creates a stored background job at start-up (no store write, no reply).
  void Restore(const StoredJob& job);

  // Graceful shutdown: stop handing out jobs; running ones may finish.
  void BeginDrain() { draining_ = true; }
  size_t running_jobs() const { return running_total_; }
  size_t job_count() const { return by_handle_.size(); }
  const CoreCounters& counters() const { return counters_; }
  const CoreOptions& options() const { return options_; }

 private:
  struct HandleTraits {
    static uint64_t Hash(const Job* j) { return Mix(j->handle_no); }
    static bool Eq(const Job* j, uint64_t no) { return j->handle_no == no; }
    static uint64_t Mix(uint64_t x) {
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdULL;
      x ^= x >> 33;
      return x;
    }
  };
  struct KeyRef {
    const Function* fn;
    std::string_view key;
    bool is_data;  // unique "-": the payload is the key (never equal to a plain unique)
  };
  struct UniqueTraits {
    static uint64_t Hash(const Job* j) { return HandleTraits::Mix(j->key_hash); }
    static bool Eq(const Job* j, const KeyRef& k) {
      return j->fn == k.fn && ((j->flags & kJobUniqueIsData) != 0) == k.is_data &&
             j->key() == k.key;
    }
  };
  struct Schedule {
    uint64_t handle_no = 0;
    std::string function;
    std::string unique;
    std::string data;
    CronSpec spec;
    int64_t next = 0;
  };
  struct TimerEntry {
    int64_t due_ms;  // steady milliseconds
    uint64_t handle_no;
    uint32_t seq;  // assign_seq for timeouts; 0 for epoch and cron entries
    uint8_t kind;  // 0 epoch, 1 timeout, 2 cron
    bool operator>(const TimerEntry& o) const { return due_ms > o.due_ms; }
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  Session* Find(SessionId id) const {
    return id < sessions_.size() ? sessions_[id].get() : nullptr;
  }

  // Packet handlers.
  void OnSubmit(Session& s, const protocol::Frame& f, Priority p, bool background,
                std::string_view reducer, int64_t when);
  void OnSubmitSched(Session& s, const protocol::Frame& f);
  void OnGrab(Session& s, protocol::Command grab);
  void OnPreSleep(Session& s);
  void OnCanDo(Session& s, std::string_view name, uint32_t timeout_ms);
  void OnCantDo(Session& s, std::string_view name);
  void OnResetAbilities(Session& s);
  void OnWorkUpdate(Session& s, const protocol::Frame& f);
  void OnGetStatus(Session& s, std::string_view handle);
  void OnGetStatusUnique(Session& s, std::string_view unique);
  void OnOption(Session& s, std::string_view name);

  // Admin.
  void OnAdmin(Session& s, const protocol::AdminCommand& c);
  std::string AdminStatus() const;
  std::string AdminPriorityStatus() const;
  std::string AdminWorkers() const;
  std::string AdminShowJobs() const;
  std::string AdminShowUniqueJobs() const;
  std::string AdminCancel(std::string_view handle);
  std::string AdminDrop(std::string_view name);

  // Job mechanics.
  Function* GetFunction(std::string_view name, bool create);
  bool ParseHandle(std::string_view handle, uint64_t* no) const;
  Job* FindByHandle(std::string_view handle) const;
  Job* FindByKey(const Function* fn, std::string_view key, bool is_data, uint32_t hash) const;
  static uint32_t KeyHash(const Function* fn, std::string_view key, bool is_data);
  void Enqueue(Job* job);  // make runnable at the tail of its priority and wake workers
  void Wake(Function* fn);
  Job* Take(Session& w);
  void Assign(Session& w, Job* job, protocol::Command grab, const Ability* ab);
  void Requeue(Job* job);  // the worker lost it: retry within the limit, or fail it
  void Finish(Job* job);   // completed/failed: store, indexes, waiters, memory
  void Discard(Job* job);  // forget a queued or scheduled job that nobody wants
  void DetachWaiters(Job* job);
  void FreeWaiter(Waiter* w);
  void AttachWaiter(Session& s, Job* job);
  void FailToWaiters(Job* job);
  void Unsleep(Session& s);
  bool HasRunnable(const Session& s) const;
  void Error(SessionId to, std::string_view code, std::string_view text);
  std::string HandleString(uint64_t no) const;
  // A handle formatted on the stack (hot paths: no allocation).
  struct HandleBuf {
    char buf[64];
    size_t len = 0;
    std::string_view view() const { return {buf, len}; }
  };
  HandleBuf MakeHandle(uint64_t no) const;
  int64_t NowMs() const;
  // Steady-clock milliseconds at which a wall-clock second falls due (saturating).
  int64_t DueMs(int64_t wall_seconds) const;
  void PushTimer(TimerEntry e);
  void FireCron(uint64_t handle_no);

  CoreOptions options_;
  Output& out_;
  Store& store_;
  const Clock& clock_;
  CoreHooks* hooks_;
  std::string prefix_colon_;  // "<prefix>:"

  std::vector<std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::unique_ptr<Function>, StringHash, std::equal_to<>>
      functions_;
  HandleIndex<Job> by_handle_;
  PtrTable<Job, UniqueTraits> by_key_;
  std::unordered_map<uint64_t, Schedule> schedules_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  std::vector<Waiter*> free_waiters_;

  uint64_t next_handle_ = 1;
  uint32_t next_assign_seq_ = 1;
  size_t running_total_ = 0;
  size_t scheduled_total_ = 0;  // epoch jobs not yet due
  bool draining_ = false;
  CoreCounters counters_;
};

}  // namespace gearbox::core
