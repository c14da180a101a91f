// Test harness for JobCore: a recording Output, recording/failing Store and hooks, a FakeClock,
// and a fixture whose helpers speak in protocol terms (Send, Submit, Grab, Admin).
// Replies are recorded per session as strings "NAME|part|part..." (packets) or the raw text
// (admin replies), so expectations read like the wire. Test-thread only.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "core/job_core.h"
#include "core/store.h"
#include "protocol/codec.h"
#include "protocol/command.h"

namespace gearbox::unit {

using core::SessionId;
using protocol::Command;

class RecordingOutput final : public core::Output {
 public:
  void Packet(SessionId to, Command command,
              std::initializer_list<std::string_view> parts) override;
  void Text(SessionId to, std::string_view text) override;

  // Removes and returns everything sent to `to`, oldest first.
  std::vector<std::string> Take(SessionId to);
  // Everything still unread, for any session ("<id>: <message>").
  std::vector<std::string> Pending() const;
  // How many replies were ever emitted (never decreases).
  size_t emitted() const { return emitted_; }

 private:
  std::vector<std::pair<SessionId, std::string>> log_;
  size_t emitted_ = 0;
};

struct StoreAdd {
  std::string function;
  std::string unique;
  std::string data;
  core::Priority priority;
  int64_t when;
  size_t replies_before;  // RecordingOutput::emitted() when Add() was called
};

// Records Add/Done; Add fails with QUEUE_ERROR material when fail_adds is set.
class RecordingStore final : public core::Store {
 public:
  explicit RecordingStore(const RecordingOutput& out) : out_(out) {}
  std::string_view name() const override { return "recording"; }
  Status Add(const core::StoredJob& job) override;
  void Done(std::string_view function, std::string_view unique) override;
  Status Sync() override { return Status::Ok(); }
  Status Replay(const std::function<void(const core::StoredJob&)>&) override {
    return Status::Ok();
  }

  bool fail_adds = false;
  std::vector<StoreAdd> adds;
  std::vector<std::string> dones;  // "function/unique"

 private:
  const RecordingOutput& out_;
};

class RecordingHooks final : public core::CoreHooks {
 public:
  void RequestShutdown(bool graceful) override { shutdowns.push_back(graceful); }
  std::vector<bool> shutdowns;
};

// Handle n under the harness's prefix: "H:t:<n>".
std::string H(uint64_t n);

class CoreTest : public ::testing::Test {
 protected:
  static constexpr SessionId kAdmin = 90;
  static constexpr SessionId kObserver = 91;

  CoreTest();
  ~CoreTest() override;

  // The core is created on first use, so tests may change `options` before that.
  core::JobCore& core();

  void Connect(SessionId id, bool loopback = true);
  void Disconnect(SessionId id);
  // Encodes a request, decodes it as the server would and hands the frame to the core
  // (HandleBadPacket when the decoder skips it).
  void Send(SessionId id, Command c, std::initializer_list<std::string_view> parts = {});
  // Feeds raw bytes through a decoder and dispatches every item like the server does.
  void SendRaw(SessionId id, std::string_view bytes);
  std::vector<std::string> Take(SessionId id) { return out.Take(id); }

  // Submits and expects exactly JOB_CREATED back; returns the handle ("" on failure).
  std::string Submit(SessionId client, std::string_view fn, std::string_view unique = "",
                     std::string_view data = "payload", Command cmd = Command::kSubmitJob);
  // Connects `id` (if needed) and registers each function with CAN_DO.
  void Worker(SessionId id, std::initializer_list<std::string_view> functions);
  // Sends a grab and returns its single reply.
  std::string Grab(SessionId worker, Command grab = Command::kGrabJob);
  // A text command from the (loopback) admin session; returns its single reply.
  std::string Admin(std::string_view line);
  // GET_STATUS / GET_STATUS_UNIQUE from the observer session; returns the reply.
  std::string StatusOf(std::string_view handle);
  std::string StatusOfUnique(std::string_view unique);
  // Advances the fake clock and runs the core's timers.
  void Advance(int64_t ms);

  core::CoreOptions options;
  FakeClock clock;
  RecordingOutput out;
  RecordingStore store{out};
  RecordingHooks hooks;

 private:
  void EnsureOpen(SessionId id);
  std::unique_ptr<core::JobCore> core_;
  std::vector<bool> open_;
};

}  // namespace gearbox::unit
