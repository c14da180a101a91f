#include "core/job_core.h"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <new>

#include "base/log.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

// ---------------------------------------------------------------------------------------------
// Job allocation: one block, header plus bytes.

Job* Job::Create(std::string_view unique, std::string_view reducer, std::string_view data) {
  size_t extra = unique.size() + reducer.size() + data.size();
  void* mem = std::malloc(sizeof(Job) + extra);
  if (mem == nullptr) throw std::bad_alloc();
  Job* j = new (mem) Job();
  j->unique_len = static_cast<uint8_t>(unique.size());
  j->reducer_len = static_cast<uint16_t>(reducer.size());
  j->data_len = static_cast<uint32_t>(data.size());
  char* p = j->bytes();
  if (!unique.empty()) std::memcpy(p, unique.data(), unique.size());
  p += unique.size();
  if (!reducer.empty()) std::memcpy(p, reducer.data(), reducer.size());
  p += reducer.size();
  if (!data.empty()) std::memcpy(p, data.data(), data.size());
  return j;
}

void Job::Destroy(Job* job) {
  job->~Job();
  std::free(job);
}

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Parses an unsigned decimal with no sign and no junk.
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// atoi(): leading optional sign and digits, anything else stops; used for WORK_STATUS numbers.
uint32_t AtoU32(std::string_view s) {
  int64_t v = 0;
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < (int64_t{1} << 40)) {
    v = v * 10 + (s[i++] - '0');
  }
  if (neg) v = -v;
  return static_cast<uint32_t>(v);
}

std::string_view U64(uint64_t v, char* buf) {
  auto [p, ec] = std::to_chars(buf, buf + 24, v);
  (void)ec;
  return {buf, static_cast<size_t>(p - buf)};
}

// The `workers` listing must stay parseable: blanks and control bytes in ids become '_'.
std::string Printable(std::string_view id) {
  std::string s(id);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) c = '_';
  }
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

JobCore::JobCore(CoreOptions options, Output& out, Store& store, const Clock& clock,
                 CoreHooks* hooks)
    : options_(std::move(options)), out_(out), store_(store), clock_(clock), hooks_(hooks) {
  // Handles are formatted into 64-byte buffers: "<prefix>:" plus up to 20 digits.
  if (options_.handle_prefix.size() > 42) options_.handle_prefix.resize(42);
  prefix_colon_ = options_.handle_prefix + ":";
}

JobCore::~JobCore() {
  std::vector<Job*> jobs;
  by_handle_.ForEach([&](Job* j) { jobs.push_back(j); });
  for (auto& s : sessions_) {
    if (!s) continue;
    while (Waiter* w = s->waiting.pop_front())
      delete w;
  }
  for (Job* j : jobs)
    Job::Destroy(j);
  for (Waiter* w : free_waiters_)
    delete w;
}

JobCore::HandleBuf JobCore::MakeHandle(uint64_t no) const {
  HandleBuf h;
  std::memcpy(h.buf, prefix_colon_.data(), prefix_colon_.size());
  auto [p, ec] = std::to_chars(h.buf + prefix_colon_.size(), h.buf + sizeof(h.buf), no);
  (void)ec;
  h.len = static_cast<size_t>(p - h.buf);
  return h;
}

std::string JobCore::HandleString(uint64_t no) const {
  char buf[24];
  std::string h = prefix_colon_;
  h.append(U64(no, buf));
  return h;
}

int64_t JobCore::DueMs(int64_t wall_seconds) const {
  // Far-future times saturate (about 31,000 years) instead of overflowing.
  constexpr int64_t kFar = int64_t{1000} * 1000 * 1000 * 1000 * 1000;
  int64_t wall_ms = clock_.WallMillis();
  int64_t delay = kFar;
  if (wall_seconds < kFar / 1000) delay = std::min(kFar, wall_seconds * 1000 - wall_ms);
  return NowMs() + delay;
}

int64_t JobCore::NowMs() const {
  return std::chrono::duration_cast<Millis>(clock_.Now().time_since_epoch()).count();
}

void JobCore::Error(SessionId to, std::string_view code, std::string_view text) {
  out_.Packet(to, Command::kError, {code, text});
}

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

// ---------------------------------------------------------------------------------------------
// Dispatch from frames

void JobCore::HandleBadPacket(SessionId id, protocol::DecodeError error, uint32_t type) {
  if (error == protocol::DecodeError::kTooFewArguments) {
    const protocol::CommandInfo* info = protocol::Lookup(type);
    std::string text = "Too few arguments for ";
    text.append(info ? info->name : "packet");
    Error(id, "INVALID_PACKET", text);
  } else {
    Error(id, "INVALID_COMMAND", "Command not expected");
  }
}

void JobCore::HandleFatal(SessionId id, protocol::DecodeError error) {
  switch (error) {
    case protocol::DecodeError::kBadMagic:
      return Error(id, "INVALID_MAGIC", "Bad packet magic: closing the connection");
    case protocol::DecodeError::kTooLarge:
      return Error(id, "DATA_TOO_LARGE",
                   "Packet larger than the server's --max-packet-size: closing the connection");
    case protocol::DecodeError::kLineTooLong:
      return out_.Text(id, "ERR LINE_TOO_LONG Text+command+line+too+long\r\n");
    default:
      return Error(id, "INVALID_PACKET", "Malformed input: closing the connection");
  }
}

void JobCore::HandlePacket(SessionId id, const Frame& f) {
  Session* sp = Find(id);
  if (sp == nullptr) return;
  Session& s = *sp;
  if (f.magic != protocol::Magic::kRequest) {
    Error(id, "INVALID_MAGIC", "Request magic expected");
    return;
  }
  switch (f.command) {
    case Command::kSubmitJob:
      return OnSubmit(s, f, Priority::kNormal, false, {}, 0);
    case Command::kSubmitJobHigh:
      return OnSubmit(s, f, Priority::kHigh, false, {}, 0);
    case Command::kSubmitJobLow:
      return OnSubmit(s, f, Priority::kLow, false, {}, 0);
    case Command::kSubmitJobBg:
      return OnSubmit(s, f, Priority::kNormal, true, {}, 0);
    case Command::kSubmitJobHighBg:
      return OnSubmit(s, f, Priority::kHigh, true, {}, 0);
    case Command::kSubmitJobLowBg:
      return OnSubmit(s, f, Priority::kLow, true, {}, 0);
    case Command::kSubmitJobEpoch: {
      uint64_t when = 0;
      if (!ParseU64(f.arg(2), &when) || when > (uint64_t{1} << 62)) {
        return Error(id, "INVALID_ARGUMENT", "Epoch time must be a decimal number of seconds");
      }
      return OnSubmit(s, f, Priority::kNormal, true, {}, static_cast<int64_t>(when));
    }
    case Command::kSubmitReduceJob:
      return OnSubmit(s, f, Priority::kNormal, false, f.arg(2), 0);
    case Command::kSubmitReduceJobBackground:
      return OnSubmit(s, f, Priority::kNormal, true, f.arg(2), 0);
    case Command::kSubmitJobSched:
      return OnSubmitSched(s, f);
    case Command::kGrabJob:
    case Command::kGrabJobUniq:
    case Command::kGrabJobAll:
      return OnGrab(s, f.command);
    case Command::kPreSleep:
      return OnPreSleep(s);
    case Command::kCanDo:
      return OnCanDo(s, f.arg(0), 0);
    case Command::kCanDoTimeout: {
      uint64_t ms = 0;
      if (f.arg(1).size() > 20 || !ParseU64(f.arg(1), &ms) || ms > UINT32_MAX) {
        return Error(id, "INVALID_ARGUMENT", "CAN_DO_TIMEOUT needs a timeout in milliseconds");
      }
      // gearmand raises timeouts below one second to one second (old clients sent seconds).
      if (ms > 0 && ms < 1000) ms = 1000;
      return OnCanDo(s, f.arg(0), static_cast<uint32_t>(ms));
    }
    case Command::kCantDo:
      return OnCantDo(s, f.arg(0));
    case Command::kResetAbilities:
      return OnResetAbilities(s);
    case Command::kWorkData:
    case Command::kWorkWarning:
    case Command::kWorkStatus:
    case Command::kWorkComplete:
    case Command::kWorkFail:
    case Command::kWorkException:
      return OnWorkUpdate(s, f);
    case Command::kGetStatus:
      return OnGetStatus(s, f.arg(0));
    case Command::kGetStatusUnique:
      return OnGetStatusUnique(s, f.arg(0));
    case Command::kEchoReq:
      return out_.Packet(id, Command::kEchoRes, {f.last()});
    case Command::kSetClientId:
      s.client_id.assign(f.arg(0).substr(0, options_.max_client_id));
      if (s.client_id.empty()) s.client_id = "-";
      return;
    case Command::kOptionReq:
      return OnOption(s, f.arg(0));
    case Command::kAllYours:
      return;  // accepted; it carries no state in this server
    default:
      return Error(id, "INVALID_COMMAND", "Command not expected");
  }
}

void JobCore::HandleText(SessionId id, std::string_view line) {
  Session* s = Find(id);
  if (s == nullptr) return;
  OnAdmin(*s, protocol::ParseAdmin(line));
}

void JobCore::OnOption(Session& s, std::string_view name) {
  if (IEquals(name, "exceptions")) {
    s.exceptions = true;
    out_.Packet(s.id, Command::kOptionRes, {name});
    return;
  }
  Error(s.id, "UNKNOWN_OPTION", "Server does not recognize given option");
}

// ---------------------------------------------------------------------------------------------
// Functions and indexes

Function* JobCore::GetFunction(std::string_view name, bool create) {
  auto it = functions_.find(name);
  if (it != functions_.end()) return it->second.get();
  if (!create) return nullptr;
  auto fn = std::make_unique<Function>();
  fn->name.assign(name);
  Function* raw = fn.get();
  functions_.emplace(fn->name, std::move(fn));
  return raw;
}

uint32_t JobCore::KeyHash(const Function* fn, std::string_view key, bool is_data) {
  uint64_t h = std::hash<std::string_view>()(key);
  h ^= (reinterpret_cast<uintptr_t>(fn) + (is_data ? 1 : 0)) * 0x9e3779b97f4a7c15ULL;
  return static_cast<uint32_t>(h ^ (h >> 32));
}

Job* JobCore::FindByKey(const Function* fn, std::string_view key, bool is_data,
                        uint32_t hash) const {
  return by_key_.Find(KeyRef{fn, key, is_data}, HandleTraits::Mix(hash));
}

bool JobCore::ParseHandle(std::string_view handle, uint64_t* no) const {
  if (handle.size() <= prefix_colon_.size() ||
      handle.compare(0, prefix_colon_.size(), prefix_colon_) != 0) {
    return false;
  }
  std::string_view digits = handle.substr(prefix_colon_.size());
  if (digits.size() > 1 && digits[0] == '0') return false;  // handles match exactly
  return ParseU64(digits, no);
}

Job* JobCore::FindByHandle(std::string_view handle) const {
  uint64_t no = 0;
  if (!ParseHandle(handle, &no)) return nullptr;
  return by_handle_.Find(no);
}

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

// ---------------------------------------------------------------------------------------------
// Status

void JobCore::OnGetStatus(Session& s, std::string_view handle) {
  Job* job = FindByHandle(handle);
  if (job == nullptr) {
    uint64_t no = 0;
    bool sched = ParseHandle(handle, &no) && schedules_.count(no) > 0;
    out_.Packet(s.id, Command::kStatusRes, {handle, sched ? "1" : "0", "0", "0", "0"});
    return;
  }
  char nb[24];
  char db[24];
  bool running = job->state == JobState::kRunning;
  out_.Packet(s.id, Command::kStatusRes,
              {handle, "1", running ? "1" : "0", U64(job->num, nb), U64(job->den, db)});
}

void JobCore::OnGetStatusUnique(Session& s, std::string_view unique) {
  Job* job = nullptr;
  if (!unique.empty()) {
    for (auto& [name, fn] : functions_) {
      if ((job = FindByKey(fn.get(), unique, false, KeyHash(fn.get(), unique, false))) != nullptr) {
        break;
      }
    }
  }
  if (job == nullptr) {
    out_.Packet(s.id, Command::kStatusResUnique, {unique, "0", "0", "0", "0", "0"});
    return;
  }
  uint64_t clients = 0;
  for (Waiter* w = job->waiters; w != nullptr; w = w->next_in_job)
    ++clients;
  char nb[24];
  char db[24];
  char cb[24];
  bool running = job->state == JobState::kRunning;
  out_.Packet(
      s.id, Command::kStatusResUnique,
      {unique, "1", running ? "1" : "0", U64(job->num, nb), U64(job->den, db), U64(clients, cb)});
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
