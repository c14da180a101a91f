// Dispatch: run queues, wake-ups (NOOP), grabs and assignment, PRE_SLEEP, abilities.
#include "core/job_core.h"

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Queues and wake-ups

void JobCore::Enqueue(Job* job) {
  job->state = JobState::kQueued;
  job->fn->queue[static_cast<int>(job->priority)].push_back(job);
  Wake(job->fn);
}

void JobCore::Wake(Function* fn) {
  if (draining_) return;
  uint32_t sent = 0;
  while (Ability* ab = fn->sleepers.front()) {
    if (options_.worker_wakeup != 0 && sent >= options_.worker_wakeup) break;
    Session& w = *ab->session;
    out_.Packet(w.id, Command::kNoop, {});
    w.noop_sent = true;
    Unsleep(w);
    ++sent;
  }
}

void JobCore::Unsleep(Session& s) {
  for (auto& ab : s.abilities) {
    if (ab->sleeping) {
      ab->fn->sleepers.remove(ab.get());
      ab->sleeping = false;
    }
  }
}

bool JobCore::HasRunnable(const Session& s) const {
  for (const auto& ab : s.abilities) {
    if (ab->fn->runnable()) return true;
  }
  return false;
}

Job* JobCore::Take(Session& w) {
  size_t k = w.abilities.size();
  if (k == 0) return nullptr;
  // Priority is global across the worker's functions (gearmand 2.0); within a priority the
  // functions take turns, starting after the one served last.
  for (int p = 0; p < 3; ++p) {
    for (size_t i = 0; i < k; ++i) {
      size_t idx = (w.rr + i) % k;
      Function* fn = w.abilities[idx]->fn;
      if (Job* job = fn->queue[p].pop_front()) {
        w.rr = static_cast<uint32_t>((idx + 1) % k);
        return job;
      }
    }
  }
  return nullptr;
}

void JobCore::OnGrab(Session& s, Command grab) {
  s.sleeping = false;
  s.noop_sent = false;
  Unsleep(s);
  Job* job = draining_ ? nullptr : Take(s);
  if (job == nullptr) {
    out_.Packet(s.id, Command::kNoJob, {});
    return;
  }
  const Ability* ab = nullptr;
  for (const auto& a : s.abilities) {
    if (a->fn == job->fn) {
      ab = a.get();
      break;
    }
  }
  Assign(s, job, grab, ab);
}

void JobCore::Assign(Session& w, Job* job, Command grab, const Ability* ab) {
  job->state = JobState::kRunning;
  job->worker = &w;
  job->num = 0;
  job->den = 0;
  job->assign_seq = next_assign_seq_++;
  if (next_assign_seq_ == 0) next_assign_seq_ = 1;
  w.running.push_back(job);
  ++job->fn->running;
  ++running_total_;
  if (ab != nullptr && ab->timeout_ms > 0) {
    PushTimer({NowMs() + ab->timeout_ms, job->handle_no, job->assign_seq, 1});
  }
  HandleBuf ht = MakeHandle(job->handle_no);
  std::string_view handle = ht.view();
  std::string_view fn = job->fn->name;
  if (grab == Command::kGrabJob) {
    out_.Packet(w.id, Command::kJobAssign, {handle, fn, job->data()});
  } else if (grab == Command::kGrabJobAll && job->reducer_len > 0) {
    out_.Packet(w.id, Command::kJobAssignAll,
                {handle, fn, job->unique(), job->reducer(), job->data()});
  } else {
    out_.Packet(w.id, Command::kJobAssignUniq, {handle, fn, job->unique(), job->data()});
  }
}

void JobCore::OnPreSleep(Session& s) {
  s.sleeping = true;
  if (s.noop_sent) return;  // one NOOP per sleep
  if (!draining_ && HasRunnable(s)) {
    out_.Packet(s.id, Command::kNoop, {});
    s.noop_sent = true;
    Unsleep(s);  // a second PRE_SLEEP may find it still listed from the first: one NOOP only
    return;
  }
  for (auto& ab : s.abilities) {
    if (!ab->sleeping) {
      ab->fn->sleepers.push_back(ab.get());
      ab->sleeping = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Abilities

void JobCore::OnCanDo(Session& s, std::string_view name, uint32_t timeout_ms) {
  if (name.empty()) return Error(s.id, "INVALID_FUNCTION_NAME", "Function name is empty");
  if (name.size() > options_.max_function) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Function name too large");
  }
  Function* fn = GetFunction(name, true);
  for (auto& ab : s.abilities) {
    if (ab->fn == fn) {
      ab->timeout_ms = timeout_ms;  // registering again only updates the timeout
      return;
    }
  }
  auto ab = std::make_unique<Ability>();
  ab->fn = fn;
  ab->session = &s;
  ab->timeout_ms = timeout_ms;
  fn->workers.push_back(ab.get());
  Ability* raw = ab.get();
  s.abilities.push_back(std::move(ab));
  if (s.sleeping && !s.noop_sent) {
    fn->sleepers.push_back(raw);
    raw->sleeping = true;
    if (fn->runnable()) Wake(fn);
  }
}

void JobCore::OnCantDo(Session& s, std::string_view name) {
  auto it = std::find_if(s.abilities.begin(), s.abilities.end(),
                         [&](const auto& ab) { return ab->fn->name == name; });
  if (it == s.abilities.end()) return;
  Function* fn = (*it)->fn;
  if ((*it)->sleeping) fn->sleepers.remove(it->get());
  fn->workers.remove(it->get());
  s.abilities.erase(it);
  if (s.rr >= s.abilities.size()) s.rr = 0;
  // Jobs of that function this worker holds go back to the queue.
  for (Job* job = s.running.front(); job != nullptr;) {
    Job* next = JobList::next(job);
    if (job->fn == fn) Requeue(job);
    job = next;
  }
}

void JobCore::OnResetAbilities(Session& s) {
  Unsleep(s);  // it can do nothing now: the requeued jobs must wake someone else
  while (Job* job = s.running.front())
    Requeue(job);
  for (auto& ab : s.abilities)
    ab->fn->workers.remove(ab.get());
  s.abilities.clear();
  s.rr = 0;
}

}  // namespace gearbox::core
