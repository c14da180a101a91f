#include "roles.h"

#include <algorithm>
#include <charconv>

namespace gearbox::load {

using protocol::Command;

namespace {

// "<id>-<seq>" without allocating.
std::string_view UniqueKey(char* buf, size_t size, uint32_t id, uint64_t seq) {
  auto r = std::to_chars(buf, buf + size, id);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, buf + size, seq);
  return std::string_view(buf, static_cast<size_t>(r.ptr - buf));
}

std::string Unexpected(const protocol::Frame& frame) {
  return "unexpected " + std::string(protocol::Name(frame.command)) + " from the server";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

BgSubmitter::BgSubmitter(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window,
                         uint32_t id)
    : Conn(fd, phase), w_(w), quota_(quota), window_(std::max<uint32_t>(window, 1)), id_(id) {}

void BgSubmitter::TopUp() {
  char buf[48];
  uint64_t n = 0;
  while (sent_ < quota_ && sent_ - acked_ < window_) {
    std::string_view unique = w_->unique ? UniqueKey(buf, sizeof(buf), id_, sent_) : "";
    Send(w_->submit_bg, {w_->function, unique, w_->payload});
    ++sent_;
    ++n;
  }
  if (n > 0) phase_->submitted.fetch_add(n, std::memory_order_relaxed);
}

void BgSubmitter::OnPacket(const protocol::Frame& frame) {
  if (HandleCommon(frame)) return;
  if (frame.command != Command::kJobCreated) return Fail(Unexpected(frame));
  if (acked_ >= sent_) return Fail("JOB_CREATED without a pending submit");
  ++acked_;
  phase_->created.fetch_add(1, std::memory_order_relaxed);
  phase_->Advance();
  if (!settling_) TopUp();
}

// ---------------------------------------------------------------------------------------------

FgClient::FgClient(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window,
                   uint32_t id, uint64_t warmup, LatencyHistogram* latency)
    : Conn(fd, phase),
      w_(w),
      quota_(quota),
      window_(std::max<uint32_t>(window, 1)),
      id_(id),
      warmup_(warmup),
      latency_(latency) {
  running_.reserve(window_);
}

void FgClient::TopUp() {
  char buf[48];
  uint64_t n = 0;
  while (sent_ < quota_ && sent_ - done_ < window_) {
    std::string_view unique = w_->unique ? UniqueKey(buf, sizeof(buf), id_, sent_) : "";
    awaiting_created_.push_back(NowNs());
    Send(w_->submit_fg, {w_->function, unique, w_->payload});
    ++sent_;
    ++n;
  }
  if (n > 0) phase_->submitted.fetch_add(n, std::memory_order_relaxed);
}

void FgClient::OnPacket(const protocol::Frame& frame) {
  if (HandleCommon(frame)) return;
  switch (frame.command) {
    case Command::kJobCreated: {
      if (awaiting_created_.empty()) return Fail("JOB_CREATED without a pending submit");
      running_.push_back({std::string(frame.arg(0)), awaiting_created_.front()});
      awaiting_created_.pop_front();
      phase_->created.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    case Command::kWorkComplete: {
      int64_t now = NowNs();
      std::string_view handle = frame.arg(0);
      auto it = std::find_if(running_.begin(), running_.end(),
                             [&](const Pending& p) { return p.handle == handle; });
      if (it == running_.end()) {
        return Fail("WORK_COMPLETE for a handle this client is not waiting for: " +
                    std::string(handle));
      }
      if (frame.arg(1).size() != w_->result.size()) {
        Fail("WORK_COMPLETE result of " + std::to_string(frame.arg(1).size()) +
             " bytes, the worker sent " + std::to_string(w_->result.size()));
      }
      int64_t submitted = it->submit_ns;
      if (it != running_.end() - 1) *it = std::move(running_.back());
      running_.pop_back();
      ++done_;
      uint64_t seq = phase_->delivered.fetch_add(1, std::memory_order_relaxed);
      if (seq >= warmup_) latency_->Record(static_cast<uint64_t>(now - submitted));
      phase_->Advance();
      if (settling_) return;
      if (w_->gap_ns > 0) {
        WakeAt(now + w_->gap_ns);  // OnTimer submits
      } else {
        TopUp();
      }
      return;
    }
    case Command::kWorkData:
    case Command::kWorkWarning:
    case Command::kWorkStatus:
      return;
    default:
      return Fail(Unexpected(frame));
  }
}

void FgClient::OnTimer() {
  if (settling_ || sent_ >= quota_) return;
  // Whether this paced submit finds the system idle: every worker has sent PRE_SLEEP.
  phase_->paced_submits.fetch_add(1, std::memory_order_relaxed);
  if (phase_->workers > 0 &&
      phase_->sleeping_workers.load(std::memory_order_relaxed) >= phase_->workers) {
    phase_->submits_to_sleeping.fetch_add(1, std::memory_order_relaxed);
  }
  TopUp();
}

// ---------------------------------------------------------------------------------------------

Worker::Worker(int fd, Phase* phase, const Workload* w, uint32_t grab_window, bool counts_progress)
    : Conn(fd, phase),
      w_(w),
      grab_window_(std::max<uint32_t>(grab_window, 1)),
      counts_progress_(counts_progress) {}

void Worker::OnStart() {
  Send(Command::kCanDo, {w_->function});
  Grab();
}

void Worker::Grab() {
  while (outstanding_ < grab_window_) {
    Send(Command::kGrabJob);
    ++outstanding_;
  }
}

void Worker::OnPacket(const protocol::Frame& frame) {
  if (HandleCommon(frame)) return;
  switch (frame.command) {
    case Command::kJobAssign: {
      if (outstanding_ == 0) return Fail("JOB_ASSIGN without an outstanding GRAB_JOB");
      --outstanding_;
      phase_->assigned.fetch_add(1, std::memory_order_relaxed);
      if (frame.arg(1) != w_->function) {
        Fail("JOB_ASSIGN for function " + std::string(frame.arg(1)));
      }
      if (frame.arg(2).size() != w_->payload.size()) {
        Fail("JOB_ASSIGN data of " + std::to_string(frame.arg(2).size()) + " bytes, expected " +
             std::to_string(w_->payload.size()));
      }
      Send(Command::kWorkComplete, {frame.arg(0), w_->result});
      phase_->completed.fetch_add(1, std::memory_order_relaxed);
      if (counts_progress_) phase_->Advance();
      // Once the phase is done, grabbing more would take jobs beyond the target (a partial
      // drain must leave the rest queued).
      if (!settling_ && !phase_->done.load(std::memory_order_relaxed)) Grab();
      return;
    }
    case Command::kNoJob:
      if (outstanding_ == 0) return Fail("NO_JOB without an outstanding GRAB_JOB");
      --outstanding_;
      phase_->no_jobs.fetch_add(1, std::memory_order_relaxed);
      if (outstanding_ == 0 && !sleeping_ && !settling_) {
        Send(Command::kPreSleep);
        sleeping_ = true;
        phase_->pre_sleeps.fetch_add(1, std::memory_order_relaxed);
        phase_->sleeping_workers.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    case Command::kNoop:
      phase_->noops.fetch_add(1, std::memory_order_relaxed);
      if (sleeping_ && !settling_) {
        sleeping_ = false;
        phase_->sleeping_workers.fetch_sub(1, std::memory_order_relaxed);
        Grab();
      }
      return;
    default:
      return Fail(Unexpected(frame));
  }
}

// ---------------------------------------------------------------------------------------------

Echoer::Echoer(int fd, Phase* phase, const Workload* w, uint64_t quota, uint32_t window)
    : Conn(fd, phase), w_(w), quota_(quota), window_(std::max<uint32_t>(window, 1)) {}

void Echoer::OnStart() {
  sent_ = 0;
  received_ = 0;
  TopUp();
}

void Echoer::TopUp() {
  while (sent_ < quota_ && sent_ - received_ < window_) {
    Send(Command::kEchoReq, {w_->payload});
    ++sent_;
  }
}

void Echoer::OnPacket(const protocol::Frame& frame) {
  // Once settling, an ECHO_RES is the settle probe's (HandleCommon): every echo of the phase
  // came back before it could finish.
  if (frame.command != Command::kEchoRes || settling_) {
    if (HandleCommon(frame)) return;
    return Fail(Unexpected(frame));
  }
  if (received_ >= sent_) return Fail("ECHO_RES without a pending ECHO_REQ");
  if (frame.last() != w_->payload) {
    return Fail("ECHO_RES of " + std::to_string(frame.last().size()) + " bytes differs from the " +
                std::to_string(w_->payload.size()) + " bytes sent");
  }
  ++received_;
  phase_->echoes.fetch_add(1, std::memory_order_relaxed);
  phase_->Advance();
  TopUp();
}

}  // namespace gearbox::load
