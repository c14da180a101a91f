// The Gearman binary command table: one row per packet type (gearmand-behaviour.md §1.2).
// Pure data; safe to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gearbox::protocol {

enum class Command : uint32_t {
  kText = 0,
  kCanDo = 1,
  kCantDo = 2,
  kResetAbilities = 3,
  kPreSleep = 4,
  kUnused5 = 5,
  kNoop = 6,
  kSubmitJob = 7,
  kJobCreated = 8,
  kGrabJob = 9,
  kNoJob = 10,
  kJobAssign = 11,
  kWorkStatus = 12,
  kWorkComplete = 13,
  kWorkFail = 14,
  kGetStatus = 15,
  kEchoReq = 16,
  kEchoRes = 17,
  kSubmitJobBg = 18,
  kError = 19,
  kStatusRes = 20,
  kSubmitJobHigh = 21,
  kSetClientId = 22,
  kCanDoTimeout = 23,
  kAllYours = 24,
  kWorkException = 25,
  kOptionReq = 26,
  kOptionRes = 27,
  kWorkData = 28,
  kWorkWarning = 29,
  kGrabJobUniq = 30,
  kJobAssignUniq = 31,
  kSubmitJobHighBg = 32,
  kSubmitJobLow = 33,
  kSubmitJobLowBg = 34,
  kSubmitJobSched = 35,
  kSubmitJobEpoch = 36,
  kSubmitReduceJob = 37,
  kSubmitReduceJobBackground = 38,
  kGrabJobAll = 39,
  kJobAssignAll = 40,
  kGetStatusUnique = 41,
  kStatusResUnique = 42,
};

inline constexpr uint32_t kMaxCommand = 42;
inline constexpr size_t kHeaderSize = 12;
// The most parts (arguments plus data) any packet has: SUBMIT_JOB_SCHED has 7 + data.
inline constexpr size_t kMaxParts = 8;

enum class Magic : uint8_t { kRequest, kResponse };

struct CommandInfo {
  std::string_view name;  // as in the PROTOCOL document, e.g. "SUBMIT_JOB"
  uint8_t argc;           // arguments; when `data` is set they are all NUL-terminated
  bool data;              // an opaque blob runs to the end of the packet
  bool request;           // a client or worker may send it to a server
  bool response;          // a server may send it to a client or worker
  // Number of NUL-separated parts on the wire (arguments plus the data blob).
  constexpr size_t parts() const { return argc + (data ? 1 : 0); }
};

// Returns nullptr for types that have no row (0 = TEXT is internal, and anything above 42).
const CommandInfo* Lookup(uint32_t type);
inline const CommandInfo& Info(Command c) { return *Lookup(static_cast<uint32_t>(c)); }
std::string_view Name(Command c);

}  // namespace gearbox::protocol
