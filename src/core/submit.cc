// Submitting: new jobs, coalescing on the unique key, and jobs restored from the store.
#include "core/job_core.h"

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Submitting

void JobCore::OnSubmit(Session& s, const Frame& f, Priority p, bool background,
                       std::string_view reducer, int64_t when) {
  std::string_view name = f.arg(0);
  std::string_view unique = f.arg(1);
  std::string_view data = f.last();
  if (name.empty()) return Error(s.id, "INVALID_FUNCTION_NAME", "Function name is empty");
  if (name.size() > options_.max_function) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Function name too large");
  }
  if (unique.size() > options_.max_unique) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Unique value too large");
  }
  if (reducer.size() > options_.max_function) {
    return Error(s.id, "ARGUMENT_TOO_LARGE", "Reducer name too large");
  }
  if (data.size() > UINT32_MAX) return Error(s.id, "ARGUMENT_TOO_LARGE", "Workload too large");

  Function* fn = GetFunction(name, true);
  bool unique_is_data = unique == "-";
  std::string_view key = unique_is_data ? data : unique;
  uint32_t hash = 0;
  if (!key.empty()) {
    hash = KeyHash(fn, key, unique_is_data);
    if (Job* existing = FindByKey(fn, key, unique_is_data, hash)) {
      // Coalesce: the submitter joins the existing job and gets its handle.
      HandleBuf handle = MakeHandle(existing->handle_no);
      if (background && !existing->background()) {
        // A background submitter now also wants this job: it must survive its clients.
        StoredJob sj{fn->name, existing->unique(), existing->data(), existing->priority, 0};
        Status st = store_.Add(sj);
        if (!st.ok()) return Error(s.id, "QUEUE_ERROR", st.message());
        existing->flags |= kJobBackground;
      }
      out_.Packet(s.id, Command::kJobCreated, {handle.view()});
      if (!background) AttachWaiter(s, existing);
      return;
    }
  }
  uint32_t limit = fn->max_queue[static_cast<int>(p)];
  if (limit != 0 && fn->total() >= limit) {
    return Error(s.id, "QUEUE_ERROR", "Job queue is full");
  }
  if (background) {
    StoredJob sj{fn->name, unique, data, p, when};
    Status st = store_.Add(sj);
    if (!st.ok()) return Error(s.id, "QUEUE_ERROR", st.message());
  }
  Job* job = Job::Create(unique, reducer, data);
  job->fn = fn;
  job->priority = p;
  job->handle_no = next_handle_++;
  if (background) job->flags |= kJobBackground;
  if (unique_is_data) job->flags |= kJobUniqueIsData;
  by_handle_.Insert(job->handle_no, job);
  if (!key.empty()) {
    job->key_hash = hash;
    job->flags |= kJobIndexed;
    by_key_.Insert(job);
  }
  ++fn->submitted;
  ++counters_.submitted;

  HandleBuf handle = MakeHandle(job->handle_no);
  out_.Packet(s.id, Command::kJobCreated, {handle.view()});
  if (!background) AttachWaiter(s, job);

  if (when > clock_.WallSeconds()) {
    job->state = JobState::kScheduled;
    ++fn->scheduled;
    ++scheduled_total_;
    PushTimer({DueMs(when), job->handle_no, 0, 0});
  } else {
    Enqueue(job);
  }
}

void JobCore::Restore(const StoredJob& sj) {
  Function* fn = GetFunction(sj.function, true);
  bool unique_is_data = sj.unique == "-";
  std::string_view key = unique_is_data ? sj.data : sj.unique;
  uint32_t hash = 0;
  if (!key.empty()) {
    hash = KeyHash(fn, key, unique_is_data);
    if (FindByKey(fn, key, unique_is_data, hash) != nullptr) return;  // duplicate row
  }
  Job* job = Job::Create(sj.unique, {}, sj.data);
  job->fn = fn;
  job->priority = sj.priority;
  job->handle_no = next_handle_++;
  job->flags |= kJobBackground;
  if (unique_is_data) job->flags |= kJobUniqueIsData;
  by_handle_.Insert(job->handle_no, job);
  if (!key.empty()) {
    job->key_hash = hash;
    job->flags |= kJobIndexed;
    by_key_.Insert(job);
  }
  if (sj.when > clock_.WallSeconds()) {
    job->state = JobState::kScheduled;
    ++fn->scheduled;
    ++scheduled_total_;
    PushTimer({DueMs(sj.when), job->handle_no, 0, 0});
  } else {
    Enqueue(job);
  }
}

}  // namespace gearbox::core
