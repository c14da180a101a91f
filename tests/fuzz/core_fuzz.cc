// Fuzz target: the JobCore state machine driven like a server drives it.
//
// The input is [options byte] then a script of operations, one byte each plus operands: the
// low nibble picks the operation, bits 4-6 the session (0-7), bit 7 a variant. Operations:
// 0 open, 1 close, 2 raw bytes through the session's StreamDecoder, 3 worker setup (CAN_DO,
// CAN_DO_TIMEOUT, CANT_DO, RESET_ABILITIES, PRE_SLEEP), 4 a submit of any kind, 5 a WORK_*
// for a job the session holds, 6 any packet built from small vocabularies, 7 an admin line,
// 8 advance the clock and Tick(), 9 advance to the next timer, 10 drain / store failure /
// restore, 11 a grab. Small vocabularies make submits, grabs and results meet each other.
// After every operation the core must be consistent:
//   * replies go only to open sessions (or the one being closed: a known bug, see
//     Sleep.JobRequeuedByADisconnectWakesAnotherSleepingWorker), are response packets with
//     exactly the command table's number of parts, and only the echoed handle/unique of
//     STATUS_RES(_UNIQUE) may contain NUL in a NUL-terminated position;
//   * every request is answered as docs/protocol.md says (one JOB_CREATED or ERROR per
//     submit, one JOB_ASSIGN*/NO_JOB per grab, one reply per admin line, ...);
//   * WORK_* reaches a client only for a handle it got JOB_CREATED for; at most one NOOP per
//     sleep;
//   * `status`/`show jobs` agree with job_count()/running_jobs(); counters never exceed
//     submissions;
// and once every session has closed no foreground job and no running job remains.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "core/job_core.h"
#include "core/store.h"
#include "fuzz_common.h"
#include "protocol/codec.h"
#include "protocol/command.h"

namespace gearbox::fuzz {
namespace {

using core::SessionId;
using protocol::Command;

const bool kUtc = [] {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  return true;
}();

// GEARBOX_FUZZ_STATS=1 prints how often each reply was produced (to judge what the fuzzer
// reaches).
std::map<Command, uint64_t>& Stats() {
  static auto* stats = new std::map<Command, uint64_t>();
  return *stats;
}
const bool kStats = [] {
  if (std::getenv("GEARBOX_FUZZ_STATS") == nullptr) return false;
  std::atexit([] {
    for (const auto& [c, n] : Stats()) {
      std::fprintf(stderr, "%-20.*s %llu\n", static_cast<int>(protocol::Name(c).size()),
                   protocol::Name(c).data(), static_cast<unsigned long long>(n));
    }
  });
  return true;
}();

// GEARBOX_FUZZ_TRACE=1 prints every packet in and out (for reading a crash input).
const bool kTrace = std::getenv("GEARBOX_FUZZ_TRACE") != nullptr;

void Trace(const char* dir, SessionId id, Command c, std::string_view first) {
  if (!kTrace) return;
  std::fprintf(stderr, "%s %u %-20.*s %.*s\n", dir, id, static_cast<int>(protocol::Name(c).size()),
               protocol::Name(c).data(), static_cast<int>(first.size()), first.data());
}

constexpr SessionId kSessions = 8;
constexpr SessionId kAdmin = 12;
const std::string kPrefix = "H:t:";

bool IsWork(Command c) {
  switch (c) {
    case Command::kWorkData:
    case Command::kWorkWarning:
    case Command::kWorkStatus:
    case Command::kWorkComplete:
    case Command::kWorkFail:
    case Command::kWorkException:
      return true;
    default:
      return false;
  }
}

bool IsSubmit(Command c) {
  switch (c) {
    case Command::kSubmitJob:
    case Command::kSubmitJobHigh:
    case Command::kSubmitJobLow:
    case Command::kSubmitJobBg:
    case Command::kSubmitJobHighBg:
    case Command::kSubmitJobLowBg:
    case Command::kSubmitJobEpoch:
    case Command::kSubmitJobSched:
    case Command::kSubmitReduceJob:
    case Command::kSubmitReduceJobBackground:
      return true;
    default:
      return false;
  }
}

struct SessionState {
  bool open = false;
  bool noop_pending = false;      // got a NOOP, has not grabbed since
  std::vector<std::string> held;  // the last handles assigned to it
  std::set<std::string> handles;  // JOB_CREATED received, not finished
  std::unique_ptr<protocol::StreamDecoder> decoder;
};

class Harness;

class CheckingOutput final : public core::Output {
 public:
  explicit CheckingOutput(Harness& h) : h_(h) {}
  void Packet(SessionId to, Command c, std::initializer_list<std::string_view> parts) override;
  void Text(SessionId to, std::string_view text) override;

 private:
  Harness& h_;
};

class NullHooks final : public core::CoreHooks {
 public:
  void RequestShutdown(bool) override { ++shutdowns; }
  int shutdowns = 0;
};

// A store that refuses some adds, chosen by the script.
class FlakyStore final : public core::Store {
 public:
  std::string_view name() const override { return "fuzz"; }
  Status Add(const core::StoredJob&) override {
    if (fail_next) {
      fail_next = false;
      return Status::IoError("injected");
    }
    ++live;
    return Status::Ok();
  }
  void Done(std::string_view, std::string_view) override { ++done; }
  Status Sync() override { return Status::Ok(); }
  Status Replay(const std::function<void(const core::StoredJob&)>&) override {
    return Status::Ok();
  }
  bool fail_next = false;
  uint64_t live = 0;
  uint64_t done = 0;
};

class Harness {
 public:
  explicit Harness(core::CoreOptions opts) : out_(*this) {
    opts.handle_prefix = "H:t";
    core_ = std::make_unique<core::JobCore>(opts, out_, store_, clock_, &hooks_);
    Open(kAdmin, true);
  }

  ~Harness() { core_.reset(); }

  void Open(SessionId id, bool loopback) {
    if (state_[id].open) return;
    core::SessionInfo info;
    info.fd = static_cast<int>(id) + 10;
    info.peer = loopback ? "127.0.0.1" : "192.0.2.1";
    info.loopback = loopback;
    core_->Open(id, info);
    state_[id] = SessionState{};
    state_[id].open = true;
    protocol::Limits lim;
    lim.max_packet = 1 << 16;
    lim.max_line = 1024;
    state_[id].decoder = std::make_unique<protocol::StreamDecoder>(lim);
  }

  void Close(SessionId id) {
    if (!state_[id].open) return;
    if (kTrace) std::fprintf(stderr, "close %u\n", id);
    closing_ = id;
    core_->Close(id);
    closing_ = kNone;
    state_[id] = SessionState{};
  }

  // Feeds raw bytes through the session's decoder and dispatches like the server.
  void Feed(SessionId id, std::string_view bytes) {
    if (!state_[id].open) return;
    state_[id].decoder->Feed(bytes);
    for (;;) {
      protocol::Item item;
      protocol::DecodeResult r = state_[id].decoder->Next(&item);
      switch (r.status) {
        case protocol::DecodeResult::Status::kNeedMore:
          return;
        case protocol::DecodeResult::Status::kItem:
          if (item.kind == protocol::Item::Kind::kText) {
            DispatchText(id, item.text);
          } else {
            DispatchPacket(id, item.frame);
          }
          break;
        case protocol::DecodeResult::Status::kSkip:
          Begin();
          core_->HandleBadPacket(id, r.error, r.type);
          FUZZ_CHECK(Count(id, Command::kError) == 1 && total_ == 1);
          break;
        case protocol::DecodeResult::Status::kFatal:
          Begin();
          core_->HandleFatal(id, r.error);
          FUZZ_CHECK(total_ == 1);
          Close(id);
          return;
      }
    }
  }

  void DispatchText(SessionId id, std::string_view line) {
    if (line.find('\t') != std::string_view::npos) tainted_ = true;
    Begin();
    core_->HandleText(id, line);
    FUZZ_CHECK(texts_[id] == 1);
  }

  void DispatchPacket(SessionId id, const protocol::Frame& f) {
    Trace("->", id, f.command, f.arg(0));
    if (f.command == Command::kGrabJob || f.command == Command::kGrabJobUniq ||
        f.command == Command::kGrabJobAll) {
      state_[id].noop_pending = false;
    }
    // Function names are printed as they are: one with a tab or newline makes `status`
    // unparseable (as in gearmand), so the listing checks stop trusting it.
    if (f.arg(0).find_first_of("\t\n") != std::string_view::npos) tainted_ = true;
    Begin();
    core_->HandlePacket(id, f);
    CheckAnswer(id, f);
  }

  void Advance(int64_t ms) {
    // FakeClock's steady time is in nanoseconds: stay within ~200 years of fake time.
    if (ms < 0 || advanced_ms_ + ms > kMaxAdvanceMs) return;
    advanced_ms_ += ms;
    clock_.Advance(Millis(ms));
    Begin();
    core_->Tick();
  }

  void AdvanceToNextTimer() {
    int64_t t = core_->MillisUntilNextTimer();
    FUZZ_CHECK(t >= -1);
    if (t >= 0) Advance(t);
  }

  void Restore(std::string_view fn, std::string_view unique, int64_t when) {
    if (fn.empty()) return;
    core::StoredJob sj{fn, unique, "restored", core::Priority::kLow, when};
    Begin();
    core_->Restore(sj);  // may wake sleeping workers, nothing else
    FUZZ_CHECK(static_cast<int>(std::count_if(counts_.begin(), counts_.end(), [](const auto& kv) {
                 return kv.first.second == Command::kNoop;
               })) == static_cast<int>(counts_.size()));
  }

  void Drain() { core_->BeginDrain(); }
  void FailNextStoreAdd() { store_.fail_next = true; }
  int64_t WallSeconds() const { return clock_.WallSeconds(); }
  bool IsOpen(SessionId id) const { return id < state_.size() && state_[id].open; }
  const std::vector<std::string>& Held(SessionId id) const { return state_[id].held; }

  // Global consistency, checked after every operation.
  void CheckConsistency() {
    const core::CoreCounters& c = core_->counters();
    FUZZ_CHECK(core_->running_jobs() <= core_->job_count());
    FUZZ_CHECK(c.completed + c.failed + c.exceptions + c.dropped + core_->job_count() <=
               c.submitted + restored_);
    FUZZ_CHECK(store_.done <= store_.live + restored_);

    std::string status = Admin("status");
    std::string prio = Admin("prioritystatus");
    std::string jobs_text = Admin("show jobs");
    size_t jobs = 0;
    ForEachLine(jobs_text, [&](std::vector<std::string_view> cols) {
      FUZZ_CHECK(cols.size() == 4);
      FUZZ_CHECK(cols[0].substr(0, kPrefix.size()) == kPrefix);
      FUZZ_CHECK(cols[2] == "0");
      FUZZ_CHECK(cols[3] == "0" || cols[3] == "1");
      ++jobs;
    });
    FUZZ_CHECK(jobs == core_->job_count());
    if (tainted_) return;

    uint64_t total = 0;
    uint64_t running = 0;
    ForEachLine(status, [&](std::vector<std::string_view> cols) {
      FUZZ_CHECK(cols.size() == 4);
      uint64_t t = Num(cols[1]);
      uint64_t r = Num(cols[2]);
      FUZZ_CHECK(r <= t);
      total += t;
      running += r;
    });
    FUZZ_CHECK(total == core_->job_count());
    FUZZ_CHECK(running == core_->running_jobs());

    uint64_t queued = 0;
    ForEachLine(prio, [&](std::vector<std::string_view> cols) {
      FUZZ_CHECK(cols.size() == 5);
      queued += Num(cols[1]) + Num(cols[2]) + Num(cols[3]);
    });
    FUZZ_CHECK(queued + running <= total);
  }

  // After every session closed: only background jobs remain and none runs.
  void CheckQuiescent() {
    FUZZ_CHECK(core_->running_jobs() == 0);
    ForEachLine(Admin("show jobs"),
                [&](std::vector<std::string_view> cols) { FUZZ_CHECK(cols[3] == "1"); });
    std::string status = Admin("status");
    if (tainted_) return;
    ForEachLine(status, [&](std::vector<std::string_view> cols) { FUZZ_CHECK(cols[3] == "0"); });
  }

  void note_restored() { ++restored_; }

  // Called by CheckingOutput.
  void OnPacket(SessionId to, Command c, std::initializer_list<std::string_view> parts) {
    FUZZ_CHECK(IsOpen(to) || to == closing_);
    Trace("<-", to, c, parts.size() ? *parts.begin() : std::string_view());
    const protocol::CommandInfo* info = protocol::Lookup(static_cast<uint32_t>(c));
    FUZZ_CHECK(info != nullptr && info->response);
    FUZZ_CHECK(parts.size() == info->parts());
    size_t i = 0;
    for (std::string_view p : parts) {
      bool nul_allowed = i + 1 == parts.size() ||
                         (i == 0 && (c == Command::kStatusRes || c == Command::kStatusResUnique));
      if (!nul_allowed) FUZZ_CHECK(p.find('\0') == std::string_view::npos);
      ++i;
    }
    std::string_view first = parts.size() ? *parts.begin() : std::string_view();
    SessionState& s = state_[to];
    if (c == Command::kJobCreated) {
      FUZZ_CHECK(first.substr(0, kPrefix.size()) == kPrefix);
      s.handles.insert(std::string(first));
    }
    if (IsWork(c)) {
      FUZZ_CHECK(s.handles.count(std::string(first)) == 1);
      if (c == Command::kWorkComplete || c == Command::kWorkFail || c == Command::kWorkException) {
        s.handles.erase(std::string(first));
      }
    }
    if (c == Command::kJobAssign || c == Command::kJobAssignUniq || c == Command::kJobAssignAll) {
      if (s.held.size() >= 8) s.held.erase(s.held.begin());
      s.held.emplace_back(first);
    }
    if (c == Command::kNoop && to != closing_) {
      FUZZ_CHECK(!s.noop_pending);
      s.noop_pending = true;
    }
    ++counts_[{to, c}];
    ++total_;
    if (kStats) ++Stats()[c];
    // The reply must survive the wire: encode and decode it again.
    std::string wire;
    protocol::AppendPacket(wire, protocol::Magic::kResponse, c, parts);
    protocol::Item item;
    protocol::DecodeResult r = protocol::Decode(wire, protocol::Limits{}, &item);
    FUZZ_CHECK(r.status == protocol::DecodeResult::Status::kItem && r.consumed == wire.size());
    FUZZ_CHECK(item.frame.command == c && item.frame.magic == protocol::Magic::kResponse);
  }

  void OnText(SessionId to, std::string_view text) {
    FUZZ_CHECK(IsOpen(to) || to == closing_);
    FUZZ_CHECK(!text.empty() && text.back() == '\n');
    if (to == kAdmin && capture_) captured_.append(text);
    ++texts_[to];
    ++total_;
  }

 private:
  static constexpr SessionId kNone = 0xffffffff;

  void Begin() {
    counts_.clear();
    texts_.clear();
    total_ = 0;
  }
  int Count(SessionId id, Command c) const {
    auto it = counts_.find({id, c});
    return it == counts_.end() ? 0 : it->second;
  }

  // What a request must be answered with, on the sending connection.
  void CheckAnswer(SessionId id, const protocol::Frame& f) {
    int errors = Count(id, Command::kError);
    if (f.magic != protocol::Magic::kRequest) {
      FUZZ_CHECK(errors == 1 && total_ == 1);
      return;
    }
    Command c = f.command;
    if (IsSubmit(c)) {
      FUZZ_CHECK(Count(id, Command::kJobCreated) + errors == 1);
      return;
    }
    switch (c) {
      case Command::kGrabJob:
      case Command::kGrabJobUniq:
      case Command::kGrabJobAll:
        FUZZ_CHECK(Count(id, Command::kJobAssign) + Count(id, Command::kJobAssignUniq) +
                       Count(id, Command::kJobAssignAll) + Count(id, Command::kNoJob) ==
                   1);
        FUZZ_CHECK(total_ == 1);
        return;
      case Command::kEchoReq:
        FUZZ_CHECK(Count(id, Command::kEchoRes) == 1 && total_ == 1);
        return;
      case Command::kGetStatus:
        FUZZ_CHECK(Count(id, Command::kStatusRes) == 1 && total_ == 1);
        return;
      case Command::kGetStatusUnique:
        FUZZ_CHECK(Count(id, Command::kStatusResUnique) == 1 && total_ == 1);
        return;
      case Command::kOptionReq:
        FUZZ_CHECK(Count(id, Command::kOptionRes) + errors == 1 && total_ == 1);
        return;
      case Command::kSetClientId:
      case Command::kAllYours:
      case Command::kResetAbilities:
      case Command::kCantDo:
        FUZZ_CHECK(Count(id, Command::kError) == 0);
        return;
      case Command::kPreSleep:
        FUZZ_CHECK(total_ == Count(id, Command::kNoop) && total_ <= 1);
        return;
      case Command::kCanDo:
      case Command::kCanDoTimeout:
        FUZZ_CHECK(errors <= 1);
        return;
      default:
        if (IsWork(c)) {
          FUZZ_CHECK(errors <= 1);
          if (errors == 1) FUZZ_CHECK(total_ == 1);
          return;
        }
        // Response-only and unused types.
        FUZZ_CHECK(errors == 1 && total_ == 1);
        return;
    }
  }

  std::string Admin(std::string_view line) {
    captured_.clear();
    capture_ = true;
    core_->HandleText(kAdmin, line);
    capture_ = false;
    FUZZ_CHECK(captured_.size() >= 2 && captured_.compare(captured_.size() - 2, 2, ".\n") == 0);
    return captured_;
  }

  template <typename F>
  static void ForEachLine(std::string_view text, F&& f) {
    while (!text.empty()) {
      size_t nl = text.find('\n');
      FUZZ_CHECK(nl != std::string_view::npos);
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl + 1);
      if (line == ".") {
        FUZZ_CHECK(text.empty());
        return;
      }
      std::vector<std::string_view> cols;
      while (true) {
        size_t tab = line.find('\t');
        cols.push_back(line.substr(0, tab));
        if (tab == std::string_view::npos) break;
        line.remove_prefix(tab + 1);
      }
      f(cols);
    }
    FUZZ_CHECK(false);  // no terminator
  }

  static uint64_t Num(std::string_view s) {
    FUZZ_CHECK(!s.empty());
    uint64_t v = 0;
    for (char ch : s) {
      FUZZ_CHECK(ch >= '0' && ch <= '9');
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    return v;
  }

  FakeClock clock_;
  FlakyStore store_;
  NullHooks hooks_;
  CheckingOutput out_;
  std::unique_ptr<core::JobCore> core_;
  std::vector<SessionState> state_ = std::vector<SessionState>(kAdmin + 1);
  SessionId closing_ = kNone;
  std::map<std::pair<SessionId, Command>, int> counts_;
  std::map<SessionId, int> texts_;
  int total_ = 0;
  bool capture_ = false;
  std::string captured_;
  uint64_t restored_ = 0;
  bool tainted_ = false;
  static constexpr int64_t kMaxAdvanceMs = int64_t{200} * 366 * 24 * 3600 * 1000;
  int64_t advanced_ms_ = 0;
};

void CheckingOutput::Packet(SessionId to, Command c,
                            std::initializer_list<std::string_view> parts) {
  h_.OnPacket(to, c, parts);
}
void CheckingOutput::Text(SessionId to, std::string_view text) {
  h_.OnText(to, text);
}

// Vocabularies that make parts of different packets refer to the same things.
std::string Part(Reader& in, const Harness& h) {
  uint8_t b = in.Byte();
  switch (b % 12) {
    case 0:
    case 1: {
      const char* fns[] = {"f", "g", "h", ""};
      return fns[(b >> 4) % 4];
    }
    case 2: {
      const char* uniques[] = {"", "-", "u", "v"};
      return uniques[(b >> 4) % 4];
    }
    case 3:
    case 4:
      return kPrefix + std::to_string((b >> 4) % 10);
    case 5: {
      const char* nums[] = {"0", "1", "999", "1000", "2500", "x", "", "18446744073709551616"};
      return nums[(b >> 4) % 8];
    }
    case 6:
      return std::to_string(h.WallSeconds() + static_cast<int64_t>(b >> 4) * 7 - 10);
    case 7: {
      const char* cron[] = {"*", "*/2", "0", "59", "1-5", "", "61", "7", "1,3"};
      return cron[(b >> 4) % 9];
    }
    case 8:
      return (b & 0x10) ? std::string(64, 'x') : std::string(65, 'x');
    case 9: {
      const char* opts[] = {"exceptions", "EXCEPTIONS", "other", "worker id"};
      return opts[(b >> 4) % 4];
    }
    default:
      return std::string(in.Bytes(in.Byte() % 24));
  }
}

const char* const kFns[] = {"f", "g", "f"};  // "f" twice: more jobs meet more workers
const char* const kUniques[] = {"", "-", "u", "v", "w"};
const char* const kData[] = {"", "d", "e", "d\0x"};

// CAN_DO, CAN_DO_TIMEOUT, CANT_DO, RESET_ABILITIES or PRE_SLEEP on a known function.
std::string WorkerSetup(Reader& in) {
  uint8_t b = in.Byte();
  const char* fn = kFns[b % 3];
  const char* timeouts[] = {"1000", "0", "2500"};
  switch ((b >> 2) % 6) {
    case 0:
    case 1:
      return protocol::Request(Command::kCanDo, {fn});
    case 2:
      return protocol::Request(Command::kCanDoTimeout, {fn, timeouts[(b >> 5) % 3]});
    case 3:
      return protocol::Request(Command::kCantDo, {fn});
    case 4:
      return protocol::Request(Command::kResetAbilities);
    default:
      return protocol::Request(Command::kPreSleep);
  }
}

// One of the submit packets, on known functions and uniques.
std::string SubmitPacket(Reader& in, const Harness& h) {
  uint8_t b = in.Byte();
  uint8_t c = in.Byte();
  const char* fn = kFns[(b >> 4) % 3];
  const char* unique = kUniques[c % 5];
  std::string_view data = kData[(c >> 3) % 4];
  if ((c >> 3) % 4 == 3) data = std::string_view("d\0x", 3);
  const Command plain[] = {Command::kSubmitJob,       Command::kSubmitJobHigh,
                           Command::kSubmitJobLow,    Command::kSubmitJobBg,
                           Command::kSubmitJobHighBg, Command::kSubmitJobLowBg};
  switch (b % 10) {
    case 6: {
      // Mostly soon; sometimes the largest time the server accepts (2^62 s).
      std::string when = (c >> 5) == 7 ? std::string("4611686018427387904")
                                       : std::to_string(h.WallSeconds() + (c >> 5) * 3 - 3);
      return protocol::Request(Command::kSubmitJobEpoch, {fn, unique, when, data});
    }
    case 7:
      return protocol::Request(Command::kSubmitReduceJob, {fn, unique, "red", "", data});
    case 8:
      return protocol::Request(Command::kSubmitReduceJobBackground, {fn, unique, "red", "", data});
    case 9: {
      const char* minutes[] = {"*", "*/2", "0", "59"};
      return protocol::Request(Command::kSubmitJobSched,
                               {fn, unique, minutes[(c >> 5) % 4], "*", "*", "*", "*", data});
    }
    default:
      return protocol::Request(plain[b % 10], {fn, unique, data});
  }
}

// A WORK_* packet, usually for a job this session was assigned.
std::string WorkPacket(Reader& in, const std::vector<std::string>& held) {
  uint8_t b = in.Byte();
  std::string handle =
      held.empty() || (b & 0x80) ? kPrefix + std::to_string(b % 8) : held[(b >> 3) % held.size()];
  switch (b % 6) {
    case 0:
      return protocol::Request(Command::kWorkData, {handle, "chunk"});
    case 1:
      return protocol::Request(Command::kWorkWarning, {handle, "warn"});
    case 2:
      return protocol::Request(Command::kWorkStatus, {handle, "1", "3"});
    case 3:
      return protocol::Request(Command::kWorkComplete, {handle, "result"});
    case 4:
      return protocol::Request(Command::kWorkFail, {handle});
    default:
      return protocol::Request(Command::kWorkException, {handle, "exc"});
  }
}

std::string AdminLine(Reader& in) {
  const char* lines[] = {"status",          "workers",           "prioritystatus",
                         "show jobs",       "show unique jobs",  "cancel job H:t:",
                         "drop function f", "drop function g",   "create function h",
                         "maxqueue f 2",    "maxqueue g 1 0 1",  "maxqueue f",
                         "getpid",          "version",           "verbose",
                         "shutdown",        "shutdown graceful", "",
                         " status",         "show foo",          "cancel",
                         "MAXQUEUE h -1"};
  uint8_t b = in.Byte();
  std::string line = lines[b % (sizeof(lines) / sizeof(lines[0]))];
  if (line == "cancel job H:t:") line += std::to_string(in.Byte() % 10);
  return line + ((b & 0x80) ? "\r\n" : "\n");
}

std::string BuildPacket(Reader& in, const Harness& h) {
  uint8_t b = in.Byte();
  uint32_t type = b % 44;  // includes 0 and 43: no table row
  const protocol::CommandInfo* info = protocol::Lookup(type);
  size_t nparts = info ? info->parts() : (b >> 6);
  if (in.Byte() % 16 == 0 && nparts > 0) --nparts;  // sometimes too few arguments
  std::string body;
  for (size_t i = 0; i < nparts; ++i) {
    if (i > 0) body.push_back('\0');
    body += Part(in, h);
  }
  std::string pkt = protocol::EncodePacket(
      (in.Byte() % 32 == 0) ? protocol::Magic::kResponse : protocol::Magic::kRequest,
      static_cast<Command>(type), {body});
  return pkt;
}

void Run(const uint8_t* data, size_t size) {
  (void)kUtc;
  Reader in(data, size);
  core::CoreOptions opts;
  uint8_t o = in.Byte();
  const int retries[] = {-1, 0, 1, 3};
  opts.job_retries = retries[o % 4];
  opts.worker_wakeup = (o >> 2) % 3;
  opts.exceptions = (o & 0x10) != 0;
  Harness h(opts);

  for (int ops = 0; ops < 400 && !in.empty(); ++ops) {
    // Operation byte: low nibble = what, bits 4-6 = session, bit 7 = a variant.
    uint8_t op = in.Byte();
    SessionId s = (op >> 4) & 7;
    switch ((op & 0x0f) % 12) {
      case 0:
        h.Open(s, (op & 0x80) == 0);
        break;
      case 1:
        h.Close(s);
        break;
      case 2:
        h.Feed(s, in.Bytes(in.Byte() % 64));
        break;
      case 3:
        if (!h.IsOpen(s)) h.Open(s, true);
        h.Feed(s, WorkerSetup(in));
        break;
      case 4:
        if (!h.IsOpen(s)) h.Open(s, true);
        h.Feed(s, SubmitPacket(in, h));
        break;
      case 5:
        if (!h.IsOpen(s)) h.Open(s, true);
        h.Feed(s, WorkPacket(in, h.Held(s)));
        break;
      case 6:
        if (!h.IsOpen(s)) h.Open(s, true);
        h.Feed(s, BuildPacket(in, h));
        break;
      case 7:
        if (!h.IsOpen(s)) h.Open(s, true);
        h.Feed(s, AdminLine(in));
        break;
      case 8:
        h.Advance(static_cast<int64_t>(in.U16()) * ((op & 0x80) ? 60 : 1));
        break;
      case 9:
        h.AdvanceToNextTimer();
        break;
      case 10: {
        uint8_t b = in.Byte();
        if (b < 4) {
          h.Drain();
        } else if (b < 64) {
          h.FailNextStoreAdd();
        } else {
          const char* fns[] = {"f", "g", "h"};
          const char* uniques[] = {"", "-", "u", "r"};
          h.Restore(fns[b % 3], uniques[(b >> 2) % 4], b & 1 ? h.WallSeconds() + (b >> 3) : 0);
          h.note_restored();
        }
        break;
      }
      default: {
        if (!h.IsOpen(s)) h.Open(s, true);
        const Command grabs[] = {Command::kGrabJob, Command::kGrabJobUniq, Command::kGrabJobAll};
        h.Feed(s, protocol::Request(grabs[in.Byte() % 3]));
        break;
      }
    }
    h.CheckConsistency();
  }
  for (SessionId s = 0; s < kSessions; ++s)
    h.Close(s);
  h.CheckConsistency();
  h.CheckQuiescent();
}

}  // namespace
}  // namespace gearbox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gearbox::fuzz::Run(data, size);
  return 0;
}
