// The load engine: Loop is one event loop over Gearman connections, with two I/O engines behind
// it: epoll over non-blocking sockets (a recv per readable connection and a send per
// connection with output, each turn), and io_uring (one ring per loop; each connection one
// multishot receive into provided buffers; a turn's sends submitted together with the wait, so
// a busy turn is one system call). Conn is one connection (input bytes awaiting a whole packet,
// output batched until the end of the loop turn, at most one send in flight with io_uring);
// Phase is the state shared by every loop of one measured phase.
// A Loop and its Conns are used by one thread at a time: the main thread builds and settles
// them, and a loop runs a phase either on the main thread (loop 0) or on its own thread, which
// lives as long as the loop (io_uring cancels a thread's requests when the thread exits).
// Phase is shared: its counters are atomics and its error list is guarded by a mutex.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "protocol/codec.h"

namespace gearbox::load {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// Counters and the finish line of one phase, shared by all loops running it.
struct Phase {
  explicit Phase(std::string phase_name, uint64_t phase_target)
      : name(std::move(phase_name)), target(phase_target) {}

  std::string name;
  uint64_t target;  // the phase is done when `progress` reaches it
  std::atomic<uint64_t> progress{0};
  std::atomic<bool> done{false};
  std::atomic<bool> failed{false};
  int64_t start_ns = 0;
  std::atomic<int64_t> end_ns{0};

  // Correctness counters.
  std::atomic<uint64_t> submitted{0};   // SUBMIT_JOB* sent
  std::atomic<uint64_t> created{0};     // JOB_CREATED received
  std::atomic<uint64_t> assigned{0};    // JOB_ASSIGN received
  std::atomic<uint64_t> completed{0};   // WORK_COMPLETE sent by workers
  std::atomic<uint64_t> delivered{0};   // WORK_COMPLETE received by foreground clients
  std::atomic<uint64_t> no_jobs{0};     // NO_JOB received
  std::atomic<uint64_t> noops{0};       // NOOP received
  std::atomic<uint64_t> pre_sleeps{0};  // PRE_SLEEP sent
  std::atomic<uint64_t> echoes{0};      // ECHO_RES received by Echoers
  // Paced submits (--gap-us): how many found every worker asleep (PRE_SLEEP sent, no NOOP yet).
  std::atomic<int64_t> sleeping_workers{0};
  uint32_t workers = 0;  // worker connections in the phase
  std::atomic<uint64_t> paced_submits{0};
  std::atomic<uint64_t> submits_to_sleeping{0};

  // Progress timestamps at each tenth of the target (for rate-versus-depth checks).
  std::array<std::atomic<int64_t>, 10> tenth_ns{};

  // Adds n to progress; the call that reaches the target records the end time.
  void Advance(uint64_t n = 1) {
    uint64_t before = progress.fetch_add(n, std::memory_order_relaxed);
    uint64_t after = before + n;
    if (target >= 10 && before * 10 / target != after * 10 / target) {
      size_t i = static_cast<size_t>(after * 10 / target) - 1;
      if (i < tenth_ns.size()) tenth_ns[i].store(NowNs(), std::memory_order_relaxed);
    }
    if (after >= target && before < target) {
      end_ns.store(NowNs(), std::memory_order_relaxed);
      done.store(true, std::memory_order_release);
    }
  }
  void Fail(const std::string& message);
  std::vector<std::string> Errors();
  double Seconds() const {
    int64_t end = end_ns.load();
    return end > start_ns ? static_cast<double>(end - start_ns) / 1e9 : 0.0;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
};

class Loop;

class Conn {
 public:
  Conn(int fd, Phase* phase);
  virtual ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  int fd() const { return fd_; }
  // Called when the loop starts; may queue packets.
  virtual void OnStart() {}
  // One decoded response packet.
  virtual void OnPacket(const protocol::Frame& frame) = 0;
  // The time asked for with WakeAt has come.
  virtual void OnTimer() {}
  // True once the connection has nothing more to do in the settle step (see Loop::Settle).
  bool settled() const { return echo_wait_ == 0; }

 protected:
  friend class Loop;
  friend class EpollLoop;
  friend class UringLoop;
  // Queues a request; it is written at the end of the loop turn together with the others.
  void Send(protocol::Command command, std::initializer_list<std::string_view> parts = {});
  // Asks the loop to call OnTimer at (or soon after) `ns` on the NowNs() clock. One pending
  // time per connection: a later call replaces it.
  void WakeAt(int64_t ns);
  // Records a protocol failure for this phase.
  void Fail(const std::string& message);
  // Default handling for packets every role treats the same way (ERROR, ECHO_RES). Returns
  // true if it consumed the packet.
  bool HandleCommon(const protocol::Frame& frame);
  Phase* phase_;
  bool settling_ = false;  // the measured phase is over: answer nothing new

 private:
  // epoll: reads what the socket has and dispatches whole packets. False when the connection
  // is gone.
  bool ReadAndDispatch(char* scratch, size_t scratch_size);
  // Dispatches whole packets from bytes received (io_uring's provided buffer, or epoll's
  // scratch read), keeping an incomplete packet's bytes for the next receive.
  void Ingest(const char* data, size_t size);
  // Decodes and dispatches whole packets from data; returns the bytes consumed.
  size_t Dispatch(const char* data, size_t size);
  // epoll: writes queued output; false on a socket error.
  bool Flush();

  int fd_;
  Loop* loop_ = nullptr;
  // Input: bytes of an incomplete packet kept between reads (empty most of the time).
  std::unique_ptr<char[]> in_;
  size_t in_len_ = 0;
  size_t in_cap_ = 0;
  size_t in_need_ = 0;
  // Output: packets queued this turn, sent with one send() per turn (epoll) or one send
  // submission per turn (io_uring; while one is in flight, further output waits here).
  std::string out_;
  size_t out_pos_ = 0;
  bool dirty_ = false;
  bool want_write_ = false;  // epoll: EPOLLOUT registered
  bool closed_ = false;
  int echo_wait_ = 0;
  // io_uring: the bytes of the send in flight (swapped with out_ when it starts).
  std::string sending_;
  size_t send_pos_ = 0;
  bool send_inflight_ = false;
  bool recv_armed_ = false;
  int64_t wake_ns_ = -1;  // pending WakeAt time, -1: none
};

enum class IoEngine { kEpoll, kUring };
const char* EngineName(IoEngine engine);

class Loop {
 public:
  // A loop with the given engine; nullptr (and the reason) when io_uring is not usable here.
  // `one_thread`: the loop is created, run, settled and destroyed by one thread (the main
  // thread's loop 0); its io_uring ring can then use DEFER_TASKRUN.
  static std::unique_ptr<Loop> Create(IoEngine engine, std::string* why_not,
                                      bool one_thread = false);
  virtual ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  IoEngine engine() const { return engine_; }
  void Add(std::unique_ptr<Conn> conn);
  const std::vector<std::unique_ptr<Conn>>& conns() const { return conns_; }

  // Calls OnStart on every connection, then runs until the phase is done or failed. `tick`, if
  // set, is called about every 200 ms (progress line, stall detection).
  void Run(Phase* phase, const std::function<void()>& tick);
  // After the measured phase: every connection sends ECHO_REQ and the loop runs until every
  // ECHO_RES arrived, so the server has processed everything sent before. Roles stop issuing
  // new work. Returns false (and fails the phase) on timeout.
  bool Settle(Phase* phase, std::chrono::milliseconds timeout);
  // Run(phase, nullptr) on the loop's own thread (started on first use); Join waits for it.
  void RunAsync(Phase* phase);
  void Join();

 protected:
  explicit Loop(IoEngine engine) : engine_(engine) {}
  friend class Conn;
  // Engine hooks. Register: a connection joined the loop. Wait: waits up to timeout_ns for I/O
  // (also submitting what FlushDirty queued) and dispatches what arrived. FlushDirty: writes,
  // or queues the writes of, every connection with new output. Push: output queued by
  // FlushDirty leaves now, without waiting for the next Wait.
  virtual void Register(Conn* c) = 0;
  virtual void Wait(int64_t timeout_ns) = 0;
  virtual void FlushDirty() = 0;
  virtual void Push() {}
  // The connection failed or the server closed it: stop reading it.
  virtual void Close(Conn* c) = 0;
  // A read ended the connection (peer closed or read error): records the failure and closes.
  void LostConnection(Conn* c, const std::string& why);

  void MarkDirty(Conn* c);
  void Turn(int64_t timeout_ns);
  void FireTimers();

  IoEngine engine_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> dirty_;
  std::vector<Conn*> timers_;  // connections with a pending WakeAt
  Phase* phase_ = nullptr;

 private:
  // The loop's own thread: runs one posted Run at a time, exits when the loop is destroyed.
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  Phase* posted_ = nullptr;  // a Run to start
  bool running_ = false;     // a posted Run has not finished
  bool quit_ = false;
};

// Runs one phase over `loops`, one thread per loop (loop 0 on the calling thread, which also
// calls `tick`). Sets phase->start_ns just before the loops start.
void RunPhase(Phase* phase, std::vector<std::unique_ptr<Loop>>& loops,
              const std::function<void()>& tick);

}  // namespace gearbox::load
