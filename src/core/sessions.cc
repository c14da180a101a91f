// Sessions: opening and closing connections, and the waiters that tie clients to jobs.
#include "core/job_core.h"

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Sessions

void JobCore::Open(SessionId id, SessionInfo info) {
  if (id >= sessions_.size()) sessions_.resize(std::max<size_t>(id + 1, sessions_.size() * 2));
  auto s = std::make_unique<Session>();
  s->id = id;
  s->info = std::move(info);
  s->exceptions = options_.exceptions;
  sessions_[id] = std::move(s);
}

void JobCore::Close(SessionId id) {
  Session* s = Find(id);
  if (s == nullptr) return;
  // As a client: leave every job it waits on.
  while (Waiter* w = s->waiting.front()) {
    Job* job = w->job;
    // Unlink from the job's singly linked list.
    for (Waiter** pp = &job->waiters; *pp != nullptr; pp = &(*pp)->next_in_job) {
      if (*pp == w) {
        *pp = w->next_in_job;
        break;
      }
    }
    s->waiting.remove(w);
    FreeWaiter(w);
    if (job->waiters == nullptr && !job->background() && job->state != JobState::kRunning) {
      Discard(job);  // nobody wants it any more; a running one finishes and is dropped then
    }
  }
  // As a worker: stop sleeping (it must not take the wake-up), give back what it holds, then
  // forget its abilities.
  Unsleep(*s);
  s->sleeping = false;
  while (Job* job = s->running.front())
    Requeue(job);
  for (auto& ab : s->abilities)
    ab->fn->workers.remove(ab.get());
  s->abilities.clear();
  sessions_[id].reset();
}

void JobCore::AttachWaiter(Session& s, Job* job) {
  for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job) {
    if (w->session == &s) return;  // one attachment per connection
  }
  Waiter* w;
  if (!free_waiters_.empty()) {
    w = free_waiters_.back();
    free_waiters_.pop_back();
  } else {
    w = new Waiter();
  }
  w->job = job;
  w->session = &s;
  w->next_in_job = job->waiters;
  job->waiters = w;
  s.waiting.push_back(w);
}

void JobCore::FreeWaiter(Waiter* w) {
  if (free_waiters_.size() < 4096) {
    free_waiters_.push_back(w);
  } else {
    delete w;
  }
}

void JobCore::DetachWaiters(Job* job) {
  Waiter* w = job->waiters;
  job->waiters = nullptr;
  while (w != nullptr) {
    Waiter* next = w->next_in_job;
    w->session->waiting.remove(w);
    FreeWaiter(w);
    w = next;
  }
}

}  // namespace gearbox::core
