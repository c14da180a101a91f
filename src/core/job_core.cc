// JobCore facade: construction, handles and time, dispatch from frames to handlers, lookups.
#include "core/job_core.h"

#include <algorithm>

#include "base/log.h"
#include "core/text_util.h"

namespace gearbox::core {

using protocol::Command;
using protocol::Frame;

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

}  // namespace gearbox::core
