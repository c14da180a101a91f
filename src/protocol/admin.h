// Parser for the text admin protocol (gearmand-behaviour.md §2): one line in, one command out.
// Pure; safe from any thread. Replies are formatted by the job core, which owns the state.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gearbox::protocol {

enum class AdminVerb : uint8_t {
  kStatus,
  kPriorityStatus,
  kWorkers,
  kShowJobs,
  kShowUniqueJobs,
  kCancelJob,
  kCreateFunction,
  kDropFunction,
  kMaxQueue,
  kGetPid,
  kVersion,
  kVerbose,
  kShutdown,
  kReply,  // the line is answered with `reply` as it stands (an error)
};

struct AdminCommand {
  AdminVerb verb = AdminVerb::kReply;
  std::string_view name;               // function name or job handle
  int nsizes = 0;                      // maxqueue: how many sizes were given (0..3)
  std::array<int64_t, 3> sizes{};      // maxqueue: HIGH, NORMAL, LOW (or one for all)
  bool graceful = false;               // shutdown graceful
  std::string reply;                   // for kReply
};

AdminCommand ParseAdmin(std::string_view line);

// gearmand's error reply for an unknown command: "ERR UNKNOWN_COMMAND Unknown+server+command<n>".
std::string UnknownCommandReply(std::string_view name);
std::string InvalidArgumentsReply(std::string_view name);

}  // namespace gearbox::protocol
