#include "client/client_session.h"

namespace gearbox::client {

using protocol::Command;

uint32_t ParseU32(std::string_view s) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < s.size() && s[i] == ' ')
    ++i;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > UINT32_MAX) return UINT32_MAX;
  }
  return static_cast<uint32_t>(v);
}

ClientSession::ClientSession(std::string server_name, LogFn log)
    : server_(std::move(server_name)), log_(std::move(log)) {}

void ClientSession::Send(const std::shared_ptr<TaskImpl>& t, ByteQueue& out) {
  using protocol::AppendPacket;
  constexpr auto kReq = protocol::Magic::kRequest;
  switch (t->kind) {
    case TaskImpl::Kind::kJob:
      if (t->command == Command::kSubmitJobEpoch) {
        AppendPacket(out, kReq, t->command, {t->function, t->unique, t->epoch, t->payload});
      } else if (t->command == Command::kSubmitReduceJob ||
                 t->command == Command::kSubmitReduceJobBackground) {
        // The aggregator field is empty, as libgearman sends it.
        AppendPacket(out, kReq, t->command, {t->function, t->unique, t->reducer, "", t->payload});
      } else {
        AppendPacket(out, kReq, t->command, {t->function, t->unique, t->payload});
      }
      break;
    case TaskImpl::Kind::kStatus:
      AppendPacket(out, kReq, Command::kGetStatus, {t->payload});
      break;
    case TaskImpl::Kind::kStatusUnique:
      AppendPacket(out, kReq, Command::kGetStatusUnique, {t->payload});
      break;
    case TaskImpl::Kind::kEcho:
      AppendPacket(out, kReq, Command::kEchoReq, {t->payload});
      break;
    case TaskImpl::Kind::kOption:
      AppendPacket(out, kReq, Command::kOptionReq, {t->payload});
      break;
  }
  t->state = TaskState::kSubmitted;
  awaiting_.push_back(t);
}

void ClientSession::SendClientId(std::string_view id, ByteQueue& out) {
  protocol::AppendPacket(out, protocol::Magic::kRequest, Command::kSetClientId, {id});
}

Error ClientSession::Mismatch(const protocol::Frame& frame) const {
  std::string owed = awaiting_.empty()
                         ? std::string("no request is waiting for a reply")
                         : "the oldest unanswered request is " + awaiting_.front()->Describe();
  return Error(Errc::kProtocolError,
               server_ + " sent " + std::string(protocol::Name(frame.command)) + " but " + owed, {},
               server_);
}

std::vector<std::shared_ptr<TaskImpl>>* ClientSession::Lookup(std::string_view handle) {
  auto it = by_handle_.find(std::string(handle));
  return it == by_handle_.end() ? nullptr : &it->second;
}

Expected<void> ClientSession::OnPacket(const protocol::Frame& f) {
  auto expect = [&](TaskImpl::Kind kind) -> std::shared_ptr<TaskImpl> {
    if (awaiting_.empty() || awaiting_.front()->kind != kind) return nullptr;
    auto t = awaiting_.front();
    awaiting_.pop_front();
    return t;
  };
  switch (f.command) {
    case Command::kJobCreated: {
      auto t = expect(TaskImpl::Kind::kJob);
      if (!t) return Mismatch(f);
      std::string_view handle = f.arg(0);
      if (!t->background && !t->abandoned) by_handle_[std::string(handle)].push_back(t);
      t->Created(handle);
      return {};
    }
    case Command::kWorkData:
    case Command::kWorkWarning:
    case Command::kWorkStatus: {
      auto* tasks = Lookup(f.arg(0));
      if (tasks == nullptr) return {};  // a job we gave up on, or not ours
      auto copy = *tasks;
      for (auto& t : copy) {
        if (f.command == Command::kWorkData) {
          t->Data(f.last());
        } else if (f.command == Command::kWorkWarning) {
          t->Warning(f.last());
        } else {
          t->Status(ParseU32(f.arg(1)), ParseU32(f.arg(2)));
        }
      }
      return {};
    }
    case Command::kWorkComplete:
    case Command::kWorkFail:
    case Command::kWorkException: {
      std::string_view handle = f.arg(0);
      // gearmand sends WORK_FAIL "HANDLE\0" (a stray NUL) after a downgraded exception.
      if (size_t nul = handle.find('\0'); nul != std::string_view::npos)
        handle = handle.substr(0, nul);
      auto it = by_handle_.find(std::string(handle));
      if (it == by_handle_.end()) return {};
      auto tasks = std::move(it->second);
      by_handle_.erase(it);
      for (auto& t : tasks) {
        if (f.command == Command::kWorkComplete) {
          t->Complete(f.last());
        } else if (f.command == Command::kWorkException) {
          t->Exception(f.last());
        } else {
          t->Fail(Error(
              Errc::kJobFailed,
              "the worker reported failure (WORK_FAIL) for " + t->Describe() + " on " + server_, {},
              server_));
        }
      }
      return {};
    }
    case Command::kStatusRes: {
      auto t = expect(TaskImpl::Kind::kStatus);
      if (!t) return Mismatch(f);
      t->status.known = f.arg(1) != "0";
      t->status.running = f.arg(2) != "0";
      t->status.numerator = ParseU32(f.arg(3));
      t->status.denominator = ParseU32(f.arg(4));
      t->status.server = server_;
      t->Answer();
      return {};
    }
    case Command::kStatusResUnique: {
      auto t = expect(TaskImpl::Kind::kStatusUnique);
      if (!t) return Mismatch(f);
      t->status.known = f.arg(1) != "0";
      t->status.running = f.arg(2) != "0";
      t->status.numerator = ParseU32(f.arg(3));
      t->status.denominator = ParseU32(f.arg(4));
      t->status.waiting_clients = ParseU32(f.arg(5));
      t->status.server = server_;
      t->Answer();
      return {};
    }
    case Command::kEchoRes: {
      auto t = expect(TaskImpl::Kind::kEcho);
      if (!t) return Mismatch(f);
      t->result.assign(f.last());
      t->Answer();
      return {};
    }
    case Command::kOptionRes: {
      auto t = expect(TaskImpl::Kind::kOption);
      if (!t) return Mismatch(f);
      if (t->payload == "exceptions") exceptions_ = true;
      t->Answer();
      return {};
    }
    case Command::kError: {
      std::string code(f.arg(0));
      std::string text(f.arg(1));
      if (awaiting_.empty()) {
        if (log_) log_(server_ + " sent ERROR " + code + " (" + text + ") that answers no request");
        return {};
      }
      auto t = awaiting_.front();
      awaiting_.pop_front();
      std::string what = t->kind == TaskImpl::Kind::kJob ? "rejected the " : "refused ";
      t->Fail(Error(Errc::kServerError,
                    server_ + " " + what + t->Describe() + ": " + code +
                        (text.empty() ? "" : " (" + text + ")"),
                    code, server_));
      return {};
    }
    default:
      if (log_) {
        log_(server_ + " sent " + std::string(protocol::Name(f.command)) +
             ", which a client does not expect; ignored");
      }
      return {};
  }
}

std::vector<std::shared_ptr<TaskImpl>> ClientSession::TakeAll() {
  std::vector<std::shared_ptr<TaskImpl>> all(awaiting_.begin(), awaiting_.end());
  awaiting_.clear();
  // A task is in exactly one place: awaiting a reply, or (once accepted) under its handle.
  for (auto& [handle, tasks] : by_handle_)
    all.insert(all.end(), tasks.begin(), tasks.end());
  by_handle_.clear();
  exceptions_ = false;
  return all;
}

}  // namespace gearbox::client
