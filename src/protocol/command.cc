#include "protocol/command.h"

#include <array>

namespace gearbox::protocol {
namespace {

// name, argc, data, request, response
constexpr std::array<CommandInfo, kMaxCommand + 1> kTable = {{
    {"TEXT", 0, false, false, false},
    {"CAN_DO", 1, false, true, false},
    {"CANT_DO", 1, false, true, false},
    {"RESET_ABILITIES", 0, false, true, false},
    {"PRE_SLEEP", 0, false, true, false},
    {"UNUSED", 0, false, false, false},
    {"NOOP", 0, false, false, true},
    {"SUBMIT_JOB", 2, true, true, false},
    {"JOB_CREATED", 1, false, false, true},
    {"GRAB_JOB", 0, false, true, false},
    {"NO_JOB", 0, false, false, true},
    {"JOB_ASSIGN", 2, true, false, true},
    {"WORK_STATUS", 3, false, true, true},
    {"WORK_COMPLETE", 1, true, true, true},
    {"WORK_FAIL", 1, false, true, true},
    {"GET_STATUS", 1, false, true, false},
    {"ECHO_REQ", 0, true, true, false},
    {"ECHO_RES", 0, true, false, true},
    {"SUBMIT_JOB_BG", 2, true, true, false},
    {"ERROR", 2, false, false, true},
    {"STATUS_RES", 5, false, false, true},
    {"SUBMIT_JOB_HIGH", 2, true, true, false},
    {"SET_CLIENT_ID", 1, false, true, false},
    {"CAN_DO_TIMEOUT", 2, false, true, false},
    {"ALL_YOURS", 0, false, true, false},
    {"WORK_EXCEPTION", 1, true, true, true},
    {"OPTION_REQ", 1, false, true, false},
    {"OPTION_RES", 1, false, false, true},
    {"WORK_DATA", 1, true, true, true},
    {"WORK_WARNING", 1, true, true, true},
    {"GRAB_JOB_UNIQ", 0, false, true, false},
    {"JOB_ASSIGN_UNIQ", 3, true, false, true},
    {"SUBMIT_JOB_HIGH_BG", 2, true, true, false},
    {"SUBMIT_JOB_LOW", 2, true, true, false},
    {"SUBMIT_JOB_LOW_BG", 2, true, true, false},
    {"SUBMIT_JOB_SCHED", 7, true, true, false},
    {"SUBMIT_JOB_EPOCH", 3, true, true, false},
    {"SUBMIT_REDUCE_JOB", 4, true, true, false},
    {"SUBMIT_REDUCE_JOB_BACKGROUND", 4, true, true, false},
    {"GRAB_JOB_ALL", 0, false, true, false},
    {"JOB_ASSIGN_ALL", 4, true, false, true},
    {"GET_STATUS_UNIQUE", 1, false, true, false},
    {"STATUS_RES_UNIQUE", 6, false, false, true},
}};

}  // namespace

const CommandInfo* Lookup(uint32_t type) {
  if (type == 0 || type > kMaxCommand) return nullptr;
  return &kTable[type];
}

std::string_view Name(Command c) {
  auto t = static_cast<uint32_t>(c);
  return t <= kMaxCommand ? kTable[t].name : std::string_view("UNKNOWN");
}

}  // namespace gearbox::protocol
