// Timers and schedules: epoch jobs, CAN_DO_TIMEOUT expiry, SUBMIT_JOB_SCHED cron schedules.
#include "core/job_core.h"

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

void JobCore::OnSubmitSched(Session& s, const Frame& f) {
  std::string_view name = f.arg(0);
  std::string_view unique = f.arg(1);
  if (name.empty()) return Error(s.id, "INVALID_FUNCTION_NAME", "Function name is empty");
  if (name.size() > options_.max_function) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Function name too large");
  }
  if (unique.size() > options_.max_unique) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Unique value too large");
  }
  std::string err;
  auto spec = CronSpec::Parse(f.arg(2), f.arg(3), f.arg(4), f.arg(5), f.arg(6), &err);
  if (!spec) return Error(s.id, "INVALID_ARGUMENT", "Bad schedule: " + err);
  int64_t next = spec->NextAfter(clock_.WallSeconds());
  if (next < 0) return Error(s.id, "INVALID_ARGUMENT", "Bad schedule: it never fires");
  GetFunction(name, true);
  Schedule sc;
  sc.handle_no = next_handle_++;
  sc.function.assign(name);
  sc.unique.assign(unique);
  sc.data.assign(f.last());
  sc.spec = *spec;
  sc.next = next;
  uint64_t no = sc.handle_no;
  schedules_.emplace(no, std::move(sc));
  PushTimer({DueMs(next), no, 0, 2});
  out_.Packet(s.id, Command::kJobCreated, {HandleString(no)});
}

void JobCore::FireCron(uint64_t handle_no) {
  auto it = schedules_.find(handle_no);
  if (it == schedules_.end()) return;  // cancelled
  Schedule& sc = it->second;
  int64_t now_s = clock_.WallSeconds();
  if (sc.next > now_s) {  // woke early (clock adjustments): re-arm
    PushTimer({DueMs(sc.next), handle_no, 0, 2});
    return;
  }
  Function* fn = GetFunction(sc.function, true);
  bool unique_is_data = sc.unique == "-";
  std::string_view key = unique_is_data ? std::string_view(sc.data) : std::string_view(sc.unique);
  uint32_t hash = key.empty() ? 0 : KeyHash(fn, key, unique_is_data);
  if (key.empty() || FindByKey(fn, key, unique_is_data, hash) == nullptr) {
    StoredJob sj{fn->name, sc.unique, sc.data, Priority::kNormal, 0};
    Status st = store_.Add(sj);
    if (st.ok()) {
      Job* job = Job::Create(sc.unique, {}, sc.data);
      job->fn = fn;
      job->handle_no = next_handle_++;
      job->flags |= kJobBackground;
      if (unique_is_data) job->flags |= kJobUniqueIsData;
      by_handle_.Insert(job->handle_no, job);
      if (!key.empty()) {
        job->key_hash = hash;
        job->flags |= kJobIndexed;
        by_key_.Insert(job);
      }
      ++fn->submitted;
      ++counters_.submitted;
      Enqueue(job);
    } else {
      GB_LOG(kError, "Scheduled job {} for {} not stored: {}", HandleString(handle_no), sc.function,
             st.message());
    }
  } else {
    GB_LOG(kInfo, "Scheduled job {} skipped: the previous run (unique {}) is still pending",
           HandleString(handle_no), sc.unique);
  }
  sc.next = sc.spec.NextAfter(now_s);
  if (sc.next < 0) {
    schedules_.erase(it);
    return;
  }
  PushTimer({DueMs(sc.next), handle_no, 0, 2});
}

// ---------------------------------------------------------------------------------------------
// Timers

void JobCore::PushTimer(TimerEntry e) {
  // Entries of jobs that finished early stay until due; when they dominate, sweep them out so
  // the heap stays proportional to live timers.
  // Sweeping only when the heap is at least twice the live timers keeps it amortised O(1).
  size_t live_timers = running_total_ + scheduled_total_ + schedules_.size();
  if (timers_.size() >= 1024 && timers_.size() > 2 * live_timers + 1024) {
    std::vector<TimerEntry> live;
    while (!timers_.empty()) {
      TimerEntry t = timers_.top();
      timers_.pop();
      if (t.kind == 2) {
        if (schedules_.count(t.handle_no) != 0) live.push_back(t);
        continue;
      }
      Job* job = by_handle_.Find(t.handle_no);
      if (job == nullptr) continue;
      if (t.kind == 0 && job->state != JobState::kScheduled) continue;
      if (t.kind == 1 && (job->state != JobState::kRunning || job->assign_seq != t.seq)) continue;
      live.push_back(t);
    }
    timers_ = decltype(timers_)(std::greater<>(), std::move(live));
  }
  timers_.push(e);
}

int64_t JobCore::MillisUntilNextTimer() const {
  if (timers_.empty()) return -1;
  int64_t d = timers_.top().due_ms - NowMs();
  return d < 0 ? 0 : d;
}

void JobCore::Tick() {
  int64_t now = NowMs();
  while (!timers_.empty() && timers_.top().due_ms <= now) {
    TimerEntry e = timers_.top();
    timers_.pop();
    if (e.kind == 2) {
      FireCron(e.handle_no);
      continue;
    }
    Job* job = by_handle_.Find(e.handle_no);
    if (job == nullptr) continue;
    if (e.kind == 0) {
      if (job->state == JobState::kScheduled) {
        --job->fn->scheduled;
        --scheduled_total_;
        Enqueue(job);  // due: runnable now, and sleeping workers hear about it
      }
    } else if (job->state == JobState::kRunning && job->assign_seq == e.seq) {
      GB_LOG(kNotice, "Job {} timed out on worker {} after CAN_DO_TIMEOUT",
             HandleString(job->handle_no), job->worker->info.peer);
      ++counters_.timeouts;
      Requeue(job);
    }
  }
}

}  // namespace gearbox::core
