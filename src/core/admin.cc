// Admin text protocol: the commands and the reports (status, workers, show jobs, ...).
#include "core/job_core.h"

#include <algorithm>
#include <iterator>

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Admin protocol

void JobCore::OnAdmin(Session& s, const protocol::AdminCommand& c) {
  using protocol::AdminVerb;
  switch (c.verb) {
    case AdminVerb::kReply:
      return out_.Text(s.id, c.reply);
    case AdminVerb::kStatus:
      return out_.Text(s.id, AdminStatus());
    case AdminVerb::kPriorityStatus:
      return out_.Text(s.id, AdminPriorityStatus());
    case AdminVerb::kWorkers:
      return out_.Text(s.id, AdminWorkers());
    case AdminVerb::kShowJobs:
      return out_.Text(s.id, AdminShowJobs());
    case AdminVerb::kShowUniqueJobs:
      return out_.Text(s.id, AdminShowUniqueJobs());
    case AdminVerb::kCancelJob:
      return out_.Text(s.id, AdminCancel(c.name));
    case AdminVerb::kCreateFunction:
      GetFunction(c.name, true);
      return out_.Text(s.id, "OK\r\n");
    case AdminVerb::kDropFunction:
      return out_.Text(s.id, AdminDrop(c.name));
    case AdminVerb::kMaxQueue: {
      if (Function* fn = GetFunction(c.name, false)) {
        uint32_t v[3] = {0, 0, 0};
        auto clamp = [](int64_t x) {
          return static_cast<uint32_t>(std::min<int64_t>(x, UINT32_MAX));
        };
        if (c.nsizes == 1) {
          v[0] = v[1] = v[2] = clamp(c.sizes[0]);
        } else {
          for (int i = 0; i < c.nsizes; ++i)
            v[i] = clamp(c.sizes[static_cast<size_t>(i)]);
        }
        std::copy(v, v + 3, fn->max_queue);
      }
      return out_.Text(s.id, "OK\r\n");
    }
    case AdminVerb::kGetPid:
      return out_.Text(s.id, "OK " + std::to_string(options_.pid) + "\n");
    case AdminVerb::kVersion:
      return out_.Text(s.id, "OK " + options_.version + "\n");
    case AdminVerb::kVerbose:
      return out_.Text(s.id, "OK " + std::string(log::LevelName(log::CurrentLevel())) + "\n");
    case AdminVerb::kShutdown:
      if (!s.info.loopback) {
        return out_.Text(s.id, "ERR PERMISSION_DENIED Shutdown+is+only+accepted+from+loopback\r\n");
      }
      out_.Text(s.id, "OK\r\n");
      if (hooks_ != nullptr) hooks_->RequestShutdown(c.graceful);
      return;
  }
}

namespace {
template <typename Map>
std::vector<const Function*> SortedFunctions(const Map& m) {
  std::vector<const Function*> v;
  v.reserve(m.size());
  for (const auto& [name, fn] : m)
    v.push_back(fn.get());
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return v;
}
}  // namespace

std::string JobCore::AdminStatus() const {
  std::string r;
  for (const Function* fn : SortedFunctions(functions_)) {
    fmt::format_to(std::back_inserter(r), "{}\t{}\t{}\t{}\n", fn->name, fn->total(), fn->running,
                   fn->workers.size());
  }
  r.append(".\n");
  return r;
}

std::string JobCore::AdminPriorityStatus() const {
  std::string r;
  for (const Function* fn : SortedFunctions(functions_)) {
    fmt::format_to(std::back_inserter(r), "{}\t{}\t{}\t{}\t{}\n", fn->name, fn->queue[0].size(),
                   fn->queue[1].size(), fn->queue[2].size(), fn->workers.size());
  }
  r.append(".\n");
  return r;
}

std::string JobCore::AdminWorkers() const {
  std::string r;
  for (const auto& s : sessions_) {
    if (!s) continue;
    fmt::format_to(std::back_inserter(r), "{} {} {} :", s->info.fd, s->info.peer,
                   Printable(s->client_id));
    for (auto it = s->abilities.rbegin(); it != s->abilities.rend(); ++it) {
      r.push_back(' ');
      r.append((*it)->fn->name);
    }
    r.push_back('\n');
  }
  r.append(".\n");
  return r;
}

std::string JobCore::AdminShowJobs() const {
  std::vector<const Job*> jobs;
  jobs.reserve(by_handle_.size());
  by_handle_.ForEach([&](const Job* j) { jobs.push_back(j); });  // in handle order
  std::string r;
  for (const Job* j : jobs) {
    fmt::format_to(std::back_inserter(r), "{}{}\t{}\t0\t{}\n", prefix_colon_, j->handle_no,
                   j->retries, j->background() ? 1 : 0);
  }
  r.append(".\n");
  return r;
}

std::string JobCore::AdminShowUniqueJobs() const {
  std::vector<const Job*> jobs;
  jobs.reserve(by_handle_.size());
  by_handle_.ForEach([&](const Job* j) { jobs.push_back(j); });  // in handle order
  std::string r;
  for (const Job* j : jobs) {
    r.append(j->unique());
    r.push_back('\n');
  }
  r.append(".\n");
  return r;
}

std::string JobCore::AdminCancel(std::string_view handle) {
  Job* job = FindByHandle(handle);
  if (job == nullptr) {
    uint64_t no = 0;
    if (ParseHandle(handle, &no) && schedules_.erase(no) > 0) return "OK\r\n";
    return "ERR UNKNOWN_JOB\r\n";
  }
  FailToWaiters(job);
  if (job->state == JobState::kRunning) {
    // The worker keeps it until it reports; nobody hears about it any more, and a new submit
    // with the same unique starts a new job.
    if (job->background()) store_.Done(job->fn->name, job->unique());
    job->flags &= static_cast<uint8_t>(~kJobBackground);
    if (job->flags & kJobIndexed) {
      by_key_.Erase(job);
      job->flags &= static_cast<uint8_t>(~kJobIndexed);
    }
    DetachWaiters(job);
    return "OK\r\n";
  }
  Discard(job);
  return "OK\r\n";
}

std::string JobCore::AdminDrop(std::string_view name) {
  for (auto it = functions_.begin(); it != functions_.end(); ++it) {
    Function* fn = it->second.get();
    if (!IEquals(fn->name, name)) continue;
    if (!fn->workers.empty() || fn->running != 0) {
      return "ERR there are still connected workers or executing clients\r\n";
    }
    if (fn->total() != 0) return "ERR there are still queued jobs\r\n";
    functions_.erase(it);
    return "OK\r\n";
  }
  return "ERR function not found\r\n";
}

}  // namespace gearbox::core
