// The records the job core is made of: Job, Waiter, Ability, Function, Session.
// All are owned by JobCore and touched only by the thread that owns it; they link to each other
// with intrusive lists so every queue operation is O(1) and allocation-free.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "core/intrusive_list.h"
#include "core/store.h"

namespace gearbox::core {

using SessionId = uint32_t;

struct Function;
struct Session;
struct Waiter;

enum class JobState : uint8_t { kQueued, kScheduled, kRunning };

enum JobFlags : uint8_t {
  kJobBackground = 1,    // submitted (or joined) as a background job
  kJobUniqueIsData = 2,  // unique "-": the payload is the coalescing key
  kJobIndexed = 4,       // present in the unique index
};

// One job. Allocated as a single block: this header followed by unique, reducer and data bytes.
struct Job {
  Job* prev = nullptr;  // links in the function's priority queue, or the worker's running list
  Job* next = nullptr;
  Function* fn = nullptr;
  uint64_t handle_no = 0;
  Session* worker = nullptr;  // while running
  Waiter* waiters = nullptr;  // attached foreground clients
  uint32_t data_len = 0;
  uint32_t key_hash = 0;  // hash of (function, coalescing key) when indexed
  uint32_t num = 0;       // last WORK_STATUS numerator / denominator
  uint32_t den = 0;
  uint32_t assign_seq = 0;  // changes at every assignment; matches timeouts to attempts
  uint16_t retries = 0;
  uint16_t reducer_len = 0;
  uint8_t unique_len = 0;
  Priority priority = Priority::kNormal;
  JobState state = JobState::kQueued;
  uint8_t flags = 0;
  // char bytes[]: unique, reducer, data follow the header.

  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view unique() const { return {bytes(), unique_len}; }
  std::string_view reducer() const { return {bytes() + unique_len, reducer_len}; }
  std::string_view data() const { return {bytes() + unique_len + reducer_len, data_len}; }
  bool background() const { return (flags & kJobBackground) != 0; }
  // The bytes that identify the job for coalescing.
  std::string_view key() const { return (flags & kJobUniqueIsData) ? data() : unique(); }

  static Job* Create(std::string_view unique, std::string_view reducer, std::string_view data);
  static void Destroy(Job* job);
};

// A foreground client attached to a job: one per (job, client connection).
struct Waiter {
  Job* job = nullptr;
  Session* session = nullptr;
  Waiter* next_in_job = nullptr;  // singly linked from Job::waiters
  Waiter* prev_in_session = nullptr;
  Waiter* next_in_session = nullptr;
};

// A function a worker connection can do (CAN_DO / CAN_DO_TIMEOUT).
struct Ability {
  Function* fn = nullptr;
  Session* session = nullptr;
  uint32_t timeout_ms = 0;
  bool sleeping = false;  // linked in fn->sleepers
  Ability* prev_worker = nullptr;
  Ability* next_worker = nullptr;
  Ability* prev_sleeper = nullptr;
  Ability* next_sleeper = nullptr;
};

using JobList = IList<Job, &Job::prev, &Job::next>;
using WorkerList = IList<Ability, &Ability::prev_worker, &Ability::next_worker>;
using SleeperList = IList<Ability, &Ability::prev_sleeper, &Ability::next_sleeper>;
using WaiterList = IList<Waiter, &Waiter::prev_in_session, &Waiter::next_in_session>;

struct Function {
  std::string name;
  JobList queue[3];  // runnable jobs by priority, FIFO
  uint32_t running = 0;
  uint32_t scheduled = 0;             // epoch jobs not yet due
  uint32_t max_queue[3] = {0, 0, 0};  // 0 = unlimited
  WorkerList workers;
  SleeperList sleepers;    // abilities of workers that sent PRE_SLEEP and no NOOP yet
  uint64_t submitted = 0;  // counters for monitoring
  uint64_t completed = 0;
  uint64_t failed = 0;

  size_t queued() const { return queue[0].size() + queue[1].size() + queue[2].size(); }
  size_t total() const { return queued() + running + scheduled; }
  bool runnable() const { return !queue[0].empty() || !queue[1].empty() || !queue[2].empty(); }
};

struct SessionInfo {
  int fd = -1;
  std::string peer;       // numeric address, as `workers` prints it
  bool loopback = false;  // admin shutdown is accepted from loopback only
};

struct Session {
  SessionId id = 0;
  SessionInfo info;
  std::string client_id = "-";
  bool exceptions = false;
  bool sleeping = false;                            // sent PRE_SLEEP, no GRAB since
  bool noop_sent = false;                           // a NOOP went out during this sleep
  uint32_t rr = 0;                                  // round-robin cursor over abilities
  std::vector<std::unique_ptr<Ability>> abilities;  // in registration order
  JobList running;                                  // jobs this worker holds
  WaiterList waiting;                               // jobs this client waits on
};

}  // namespace gearbox::core
