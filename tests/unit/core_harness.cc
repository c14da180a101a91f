#include "core_harness.h"

#include <string>

namespace gearbox::unit {

void RecordingOutput::Packet(SessionId to, Command command,
                             std::initializer_list<std::string_view> parts) {
  std::string s(protocol::Name(command));
  for (std::string_view p : parts) {
    s.push_back('|');
    s.append(p);
  }
  log_.emplace_back(to, std::move(s));
  ++emitted_;
}

void RecordingOutput::Text(SessionId to, std::string_view text) {
  log_.emplace_back(to, std::string(text));
  ++emitted_;
}

std::vector<std::string> RecordingOutput::Take(SessionId to) {
  std::vector<std::string> mine;
  std::vector<std::pair<SessionId, std::string>> rest;
  for (auto& [id, msg] : log_) {
    if (id == to) {
      mine.push_back(std::move(msg));
    } else {
      rest.emplace_back(id, std::move(msg));
    }
  }
  log_ = std::move(rest);
  return mine;
}

std::vector<std::string> RecordingOutput::Pending() const {
  std::vector<std::string> v;
  for (const auto& [id, msg] : log_)
    v.push_back(std::to_string(id) + ": " + msg);
  return v;
}

Status RecordingStore::Add(const core::StoredJob& job) {
  if (fail_adds) return Status::IoError("store is broken");
  adds.push_back({std::string(job.function), std::string(job.unique), std::string(job.data),
                  job.priority, job.when, out_.emitted()});
  return Status::Ok();
}

void RecordingStore::Done(std::string_view function, std::string_view unique) {
  dones.push_back(std::string(function) + "/" + std::string(unique));
}

std::string H(uint64_t n) {
  return "H:t:" + std::to_string(n);
}

CoreTest::CoreTest() {
  options.handle_prefix = "H:t";
  options.pid = 4242;
  options.version = "9.9.9-test";
}

CoreTest::~CoreTest() = default;

core::JobCore& CoreTest::core() {
  if (!core_) core_ = std::make_unique<core::JobCore>(options, out, store, clock, &hooks);
  return *core_;
}

void CoreTest::Connect(SessionId id, bool loopback) {
  core::SessionInfo info;
  info.fd = static_cast<int>(id) + 100;
  info.peer = loopback ? "127.0.0.1" : "192.0.2.7";
  info.loopback = loopback;
  core().Open(id, info);
  if (open_.size() <= id) open_.resize(id + 1);
  open_[id] = true;
}

void CoreTest::Disconnect(SessionId id) {
  core().Close(id);
  if (id < open_.size()) open_[id] = false;
}

void CoreTest::EnsureOpen(SessionId id) {
  if (open_.size() <= id || !open_[id]) Connect(id);
}

void CoreTest::Send(SessionId id, Command c, std::initializer_list<std::string_view> parts) {
  SendRaw(id, protocol::Request(c, parts));
}

void CoreTest::SendRaw(SessionId id, std::string_view bytes) {
  protocol::StreamDecoder d;
  d.Feed(bytes);
  for (;;) {
    protocol::Item item;
    protocol::DecodeResult r = d.Next(&item);
    switch (r.status) {
      case protocol::DecodeResult::Status::kNeedMore:
        return;
      case protocol::DecodeResult::Status::kItem:
        if (item.kind == protocol::Item::Kind::kText) {
          core().HandleText(id, item.text);
        } else {
          core().HandlePacket(id, item.frame);
        }
        break;
      case protocol::DecodeResult::Status::kSkip:
        core().HandleBadPacket(id, r.error, r.type);
        break;
      case protocol::DecodeResult::Status::kFatal:
        core().HandleFatal(id, r.error);
        return;
    }
  }
}

std::string CoreTest::Submit(SessionId client, std::string_view fn, std::string_view unique,
                             std::string_view data, Command cmd) {
  EnsureOpen(client);
  Send(client, cmd, {fn, unique, data});
  std::vector<std::string> got = Take(client);
  EXPECT_EQ(got.size(), 1u) << ::testing::PrintToString(got);
  if (got.size() != 1 || got[0].rfind("JOB_CREATED|", 0) != 0) {
    ADD_FAILURE() << "submit answered " << ::testing::PrintToString(got);
    return "";
  }
  return got[0].substr(12);
}

void CoreTest::Worker(SessionId id, std::initializer_list<std::string_view> functions) {
  EnsureOpen(id);
  for (std::string_view f : functions)
    Send(id, Command::kCanDo, {f});
}

std::string CoreTest::Grab(SessionId worker, Command grab) {
  Send(worker, grab);
  std::vector<std::string> got = Take(worker);
  EXPECT_EQ(got.size(), 1u) << ::testing::PrintToString(got);
  return got.empty() ? "" : got.back();
}

std::string CoreTest::Admin(std::string_view line) {
  EnsureOpen(kAdmin);
  core().HandleText(kAdmin, line);
  std::vector<std::string> got = Take(kAdmin);
  EXPECT_EQ(got.size(), 1u) << ::testing::PrintToString(got);
  return got.empty() ? "" : got.back();
}

std::string CoreTest::StatusOf(std::string_view handle) {
  EnsureOpen(kObserver);
  Send(kObserver, Command::kGetStatus, {handle});
  std::vector<std::string> got = Take(kObserver);
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? "" : got.back();
}

std::string CoreTest::StatusOfUnique(std::string_view unique) {
  EnsureOpen(kObserver);
  Send(kObserver, Command::kGetStatusUnique, {unique});
  std::vector<std::string> got = Take(kObserver);
  EXPECT_EQ(got.size(), 1u);
  return got.empty() ? "" : got.back();
}

void CoreTest::Advance(int64_t ms) {
  clock.Advance(Millis(ms));
  core().Tick();
}

}  // namespace gearbox::unit
