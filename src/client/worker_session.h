// WorkerSession: the protocol state of one worker connection: registration packets and the
// GRAB -> (JOB_ASSIGN | NO_JOB -> PRE_SLEEP -> NOOP) cycle. Pure: no sockets and no clock, so
// tests drive it packet by packet. Owned by the Worker loop for one server; not thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/byte_queue.h"
#include "protocol/codec.h"

namespace gearbox::client {

class WorkerSession {
 public:
  enum class Phase {
    kIdle,      // may grab
    kGrabbing,  // GRAB_JOB* sent; waiting for JOB_ASSIGN* or NO_JOB
    kSleeping,  // PRE_SLEEP sent; waiting for NOOP
  };
  enum class Event {
    kNone,      // nothing for the loop to do
    kAssigned,  // a job arrived (see Assignment)
    kWoken,     // NOOP while sleeping: grab again
    kEchoed,    // ECHO_RES (heartbeat answered)
    kError,     // ERROR from the server (text in *error_text); not fatal
  };
  struct Assignment {
    std::string_view handle;
    std::string_view function;
    std::string_view unique;
    std::string_view reducer;
    std::string_view payload;
  };

  Phase phase() const { return phase_; }
  // A fresh connection: back to kIdle.
  void Reset() { phase_ = Phase::kIdle; }

  static void SetClientId(ByteQueue& out, std::string_view id);
  // CAN_DO, or CAN_DO_TIMEOUT with the timeout in milliseconds.
  static void CanDo(ByteQueue& out, std::string_view function,
                    std::optional<std::chrono::milliseconds> timeout);
  static void CantDo(ByteQueue& out, std::string_view function);
  static void Echo(ByteQueue& out);

  // Sends the grab packet (GRAB_JOB, GRAB_JOB_UNIQ or GRAB_JOB_ALL); phase becomes kGrabbing.
  void Grab(ByteQueue& out, protocol::Command grab);
  // Leaves kSleeping (after new registrations a sleeping worker must look for work itself).
  void Wake() {
    if (phase_ == Phase::kSleeping) phase_ = Phase::kIdle;
  }

  // One packet from the server. NO_JOB answers itself with PRE_SLEEP (written to `out`).
  Event OnPacket(const protocol::Frame& frame, ByteQueue& out, Assignment* job,
                 std::string* error_text);

 private:
  Phase phase_ = Phase::kIdle;
};

}  // namespace gearbox::client
