// The connection roles gearbox-load plays: a background submitter, a foreground client that
// times each job, a worker that pipelines its grabs, and an echo pinger (the request/reply
// floor, and the liveness probe of idle connections).
// Each object is a Conn: it lives in one Loop and only that loop's thread calls it.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "engine.h"
#include "histogram.h"

namespace gearbox::load {

// What the jobs of a run look like. Read-only while loops run; shared by all roles.
struct Workload {
  std::string function;
  std::string payload;  // each job's data
  std::string result;   // what workers send back in WORK_COMPLETE
  protocol::Command submit_bg = protocol::Command::kSubmitJobBg;
  protocol::Command submit_fg = protocol::Command::kSubmitJob;
  bool unique = false;  // give every job its own unique key ("<conn>-<seq>")
  int64_t gap_ns = 0;   // foreground clients: pause after each result before submitting again
};

// Keeps `window` SUBMIT_JOB_BG in flight until `quota` jobs were created. Progress: JOB_CREATED.
class BgSubmitter final : public Conn {
 public:
  BgSubmitter(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window,
              uint32_t id);
  void OnStart() override { TopUp(); }
  void OnPacket(const protocol::Frame& frame) override;

 private:
  void TopUp();
  const Workload* w_;
  uint64_t quota_;
  uint32_t window_;
  uint32_t id_;
  uint64_t sent_ = 0;
  uint64_t acked_ = 0;
};

// Keeps `window` foreground SUBMIT_JOBs in flight until `quota` results arrived; records each
// job's latency from its submit to its WORK_COMPLETE. Progress: WORK_COMPLETE received. With a
// gap (Workload::gap_ns), each result is followed by a pause of at least the gap before the
// client submits again (the paced, unloaded round trip: the worker is back asleep by then).
class FgClient final : public Conn {
 public:
  FgClient(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window, uint32_t id,
           uint64_t warmup, LatencyHistogram* latency);
  void OnStart() override { TopUp(); }
  void OnPacket(const protocol::Frame& frame) override;
  void OnTimer() override;

 private:
  struct Pending {
    std::string handle;
    int64_t submit_ns = 0;
  };
  void TopUp();
  const Workload* w_;
  uint64_t quota_;
  uint32_t window_;
  uint32_t id_;
  uint64_t warmup_;
  LatencyHistogram* latency_;
  uint64_t sent_ = 0;
  uint64_t done_ = 0;
  std::deque<int64_t> awaiting_created_;  // submit times, in submit order
  std::vector<Pending> running_;          // created, awaiting WORK_COMPLETE
};

// CAN_DO, then keeps `grab_window` GRAB_JOBs outstanding. Each JOB_ASSIGN is answered with
// WORK_COMPLETE and a new GRAB_JOB in the same write. When every grab came back NO_JOB it sends
// PRE_SLEEP and waits for NOOP (Phase::sleeping_workers counts the workers in between). If
// `counts_progress`, each completion advances the phase.
class Worker final : public Conn {
 public:
  Worker(int fd, Phase* phase, const Workload* w, uint32_t grab_window, bool counts_progress);
  void OnStart() override;
  void OnPacket(const protocol::Frame& frame) override;

 private:
  void Grab();
  const Workload* w_;
  uint32_t grab_window_;
  bool counts_progress_;
  uint32_t outstanding_ = 0;
  bool sleeping_ = false;
};

// Keeps `window` ECHO_REQs carrying the workload's payload in flight until `quota` ECHO_RES came
// back, each checked against what was sent: one packet each way and no job state, the cheapest
// request and reply a server can be given (the floor a drain by one-job workers, also one
// packet each way per job, is compared with). Progress: ECHO_RES received. Every phase the
// connection runs in starts its quota afresh (with quota 1, each phase checks it answers).
class Echoer final : public Conn {
 public:
  Echoer(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window);
  void OnStart() override;
  void OnPacket(const protocol::Frame& frame) override;

 private:
  void TopUp();
  const Workload* w_;
  uint64_t quota_;
  uint32_t window_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
};

}  // namespace gearbox::load
