#include "client/worker_session.h"

namespace gearbox::client {

using protocol::Command;
constexpr auto kReq = protocol::Magic::kRequest;

void WorkerSession::SetClientId(ByteQueue& out, std::string_view id) {
  protocol::AppendPacket(out, kReq, Command::kSetClientId, {id});
}

void WorkerSession::CanDo(ByteQueue& out, std::string_view function,
                          std::optional<std::chrono::milliseconds> timeout) {
  if (timeout) {
    protocol::AppendPacket(out, kReq, Command::kCanDoTimeout,
                           {function, std::to_string(timeout->count())});
  } else {
    protocol::AppendPacket(out, kReq, Command::kCanDo, {function});
  }
}

void WorkerSession::CantDo(ByteQueue& out, std::string_view function) {
  protocol::AppendPacket(out, kReq, Command::kCantDo, {function});
}

void WorkerSession::Echo(ByteQueue& out) {
  protocol::AppendPacket(out, kReq, Command::kEchoReq, {});
}

void WorkerSession::Grab(ByteQueue& out, Command grab) {
  protocol::AppendPacket(out, kReq, grab, {});
  phase_ = Phase::kGrabbing;
}

WorkerSession::Event WorkerSession::OnPacket(const protocol::Frame& f, ByteQueue& out,
                                             Assignment* job, std::string* error_text) {
  switch (f.command) {
    case Command::kNoJob:
      protocol::AppendPacket(out, kReq, Command::kPreSleep, {});
      phase_ = Phase::kSleeping;
      return Event::kNone;
    case Command::kNoop:
      if (phase_ == Phase::kSleeping) {
        phase_ = Phase::kIdle;
        return Event::kWoken;
      }
      return Event::kNone;
    case Command::kJobAssign:
      phase_ = Phase::kIdle;
      *job = Assignment{f.arg(0), f.arg(1), {}, {}, f.last()};
      return Event::kAssigned;
    case Command::kJobAssignUniq:
      phase_ = Phase::kIdle;
      *job = Assignment{f.arg(0), f.arg(1), f.arg(2), {}, f.last()};
      return Event::kAssigned;
    case Command::kJobAssignAll:
      phase_ = Phase::kIdle;
      *job = Assignment{f.arg(0), f.arg(1), f.arg(2), f.arg(3), f.last()};
      return Event::kAssigned;
    case Command::kEchoRes:
      return Event::kEchoed;
    case Command::kError:
      *error_text = std::string(f.arg(0)) + " " + std::string(f.arg(1));
      return Event::kError;
    default:
      return Event::kNone;
  }
}

}  // namespace gearbox::client
