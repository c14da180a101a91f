// Store: the persistent-queue seam. The job core records background jobs here before it
// answers JOB_CREATED, and forgets them when they finish. Backends (sqlite, postgres, ...)
// implement this interface; MemoryStore is the built-in no-op ("-q builtin").
//
// Contract, per loop turn of the thread that owns the core:
//   Add()/Done() calls made while handling the turn's packets are only staged;
//   Sync() makes all of them durable at once (group commit) and runs before any reply of that
//   turn leaves the process, so a JOB_CREATED is never sent for a job that is not yet durable.
// Called only from the core's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/status.h"

namespace gearbox::core {

enum class Priority : uint8_t { kHigh = 0, kNormal = 1, kLow = 2 };

struct StoredJob {
  std::string_view function;
  std::string_view unique;
  std::string_view data;
  Priority priority = Priority::kNormal;
  int64_t when = 0;  // SUBMIT_JOB_EPOCH time in seconds since the epoch, 0 = now
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string_view name() const = 0;
  // Stages a new background job. A failure refuses the submit (ERROR QUEUE_ERROR).
  virtual Status Add(const StoredJob& job) = 0;
  // Stages the removal of a finished (completed, failed, cancelled, dropped) background job.
  virtual void Done(std::string_view function, std::string_view unique) = 0;
  // Makes everything staged durable. Called once per loop turn, before replies are flushed.
  virtual Status Sync() = 0;
  // Calls `add` for every stored job; used once at start-up before clients connect.
  virtual Status Replay(const std::function<void(const StoredJob&)>& add) = 0;
};

// The in-memory "builtin" queue: nothing is stored, so nothing survives a restart.
class MemoryStore final : public Store {
 public:
  std::string_view name() const override { return "builtin"; }
  Status Add(const StoredJob&) override { return Status::Ok(); }
  void Done(std::string_view, std::string_view) override {}
  Status Sync() override { return Status::Ok(); }
  Status Replay(const std::function<void(const StoredJob&)>&) override { return Status::Ok(); }
};

}  // namespace gearbox::core
