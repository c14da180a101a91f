// Results from workers: WORK_* routing to clients, finishing, requeueing and retry limits.
#include "core/job_core.h"

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Results from workers

void JobCore::OnWorkUpdate(Session& s, const Frame& f) {
  std::string_view handle = f.arg(0);
  Job* job = FindByHandle(handle);
  if (job == nullptr || job->state != JobState::kRunning || job->worker != &s) {
    switch (f.command) {
      case Command::kWorkData:
      case Command::kWorkWarning:
        return Error(s.id, "JOB_NOT_FOUND", "Job does not exist on server");
      case Command::kWorkException:
        return Error(s.id, "JOB_NOT_FOUND",
                     "An exception was received for a job that does not exist");
      default:
        return Error(s.id, "JOB_NOT_FOUND", "Job given in work result not found");
    }
  }
  switch (f.command) {
    case Command::kWorkData:
    case Command::kWorkWarning:
      for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
        out_.Packet(w->session->id, f.command, {handle, f.last()});
      }
      return;
    case Command::kWorkStatus:
      job->num = AtoU32(f.arg(1));
      job->den = AtoU32(f.arg(2));
      for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
        out_.Packet(w->session->id, f.command, {handle, f.arg(1), f.arg(2)});
      }
      return;
    case Command::kWorkComplete:
      for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
        out_.Packet(w->session->id, Command::kWorkComplete, {handle, f.last()});
      }
      ++job->fn->completed;
      ++counters_.completed;
      return Finish(job);
    case Command::kWorkFail:
      for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
        out_.Packet(w->session->id, Command::kWorkFail, {handle});
      }
      ++job->fn->failed;
      ++counters_.failed;
      return Finish(job);
    case Command::kWorkException:
      for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
        if (w->session->exceptions) {
          out_.Packet(w->session->id, Command::kWorkException, {handle, f.last()});
        } else {
          out_.Packet(w->session->id, Command::kWorkFail, {handle});
        }
      }
      ++job->fn->failed;
      ++counters_.exceptions;
      return Finish(job);
    default:
      return;
  }
}

void JobCore::Finish(Job* job) {
  if (job->state == JobState::kRunning) {
    job->worker->running.remove(job);
    --job->fn->running;
    --running_total_;
    job->worker = nullptr;
  }
  if (job->background()) store_.Done(job->fn->name, job->unique());
  DetachWaiters(job);
  by_handle_.Erase(job->handle_no);
  if (job->flags & kJobIndexed) by_key_.Erase(job);
  Job::Destroy(job);
}

void JobCore::Discard(Job* job) {
  if (job->state == JobState::kQueued) {
    job->fn->queue[static_cast<int>(job->priority)].remove(job);
  } else if (job->state == JobState::kScheduled) {
    --job->fn->scheduled;  // its timer entry finds no job and is ignored
    --scheduled_total_;
  }
  Finish(job);
}

void JobCore::FailToWaiters(Job* job) {
  HandleBuf handle = MakeHandle(job->handle_no);
  for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
    out_.Packet(w->session->id, Command::kWorkFail, {handle.view()});
  }
}

void JobCore::Requeue(Job* job) {
  Session* w = job->worker;
  w->running.remove(job);
  --job->fn->running;
  --running_total_;
  job->worker = nullptr;
  job->state = JobState::kQueued;
  if (job->waiters == nullptr && !job->background()) {
    Finish(job);  // its clients are gone: nobody would see a retry
    return;
  }
  if (job->retries < UINT16_MAX) ++job->retries;
  int limit = options_.job_retries;
  if (limit == 0 || (limit > 0 && job->retries >= limit)) {
    GB_LOG(kNotice, "Dropped job due to max retry count: {} {}", HandleString(job->handle_no),
           job->unique());
    FailToWaiters(job);
    ++job->fn->failed;
    ++counters_.dropped;
    Finish(job);
    return;
  }
  ++counters_.requeued;
  job->num = 0;
  job->den = 0;
  Enqueue(job);
}

}  // namespace gearbox::core
