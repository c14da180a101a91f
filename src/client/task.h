// TaskImpl: the state of one client request (a job submission or a query), shared by the
// Client, its per-connection ClientSession and the user's Task handles. Owned jointly through
// shared_ptr; touched only on the thread that runs the Client.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gearbox/client.h"
#include "protocol/command.h"

namespace gearbox::internal {

struct TaskImpl : std::enable_shared_from_this<TaskImpl> {
  enum class Kind {
    kJob,           // SUBMIT_* -> JOB_CREATED (-> WORK_* for foreground jobs)
    kStatus,        // GET_STATUS -> STATUS_RES
    kStatusUnique,  // GET_STATUS_UNIQUE -> STATUS_RES_UNIQUE
    kEcho,          // ECHO_REQ -> ECHO_RES
    kOption,        // OPTION_REQ -> OPTION_RES or ERROR
  };

  Kind kind = Kind::kJob;
  protocol::Command command = protocol::Command::kSubmitJob;

  // What is sent. For kJob: function, unique, payload (+ reducer / epoch). For queries: the
  // handle, unique, echo payload or option name goes in `payload`.
  std::string function;
  std::string unique;
  std::string payload;
  std::string reducer;
  std::string epoch;  // decimal seconds for SUBMIT_JOB_EPOCH
  bool background = false;
  TaskHandlers handlers;
  // Foreground Do(): WORK_DATA chunks are collected in front of the result.
  bool collect_data = false;

  // Routing.
  std::string placement_key;  // non-empty: consistent-hash placement
  std::optional<size_t> pinned_server;
  std::vector<bool> tried;  // servers this task has failed on
  std::optional<size_t> server;
  std::string server_name;

  // Progress.
  TaskState state = TaskState::kPending;
  std::string handle;
  std::string result;  // WORK_COMPLETE data (with collected WORK_DATA), or ECHO_RES data
  std::optional<Error> error;
  uint32_t numerator = 0;
  uint32_t denominator = 0;
  JobStatus status;  // queries
  // The caller gave up (timeout): replies are still consumed but nobody is told.
  bool abandoned = false;
  // Called once when the task finishes (the Client's bookkeeping).
  std::function<void(TaskImpl&)> on_finished;

  bool finished() const { return state == TaskState::kDone || state == TaskState::kFailed; }
  Task AsTask();

  // Transitions; each runs the matching user callback unless the task was abandoned.
  void Created(std::string_view job_handle);
  void Data(std::string_view data);
  void Warning(std::string_view data);
  void Status(uint32_t num, uint32_t den);
  void Complete(std::string_view data);
  void Exception(std::string_view data);
  void Fail(Error error);
  // Queries: record the answer and finish.
  void Answer();

  // A label for messages: "job for function 'reverse'" or "GET_STATUS for 'H:x:1'".
  std::string Describe() const;

 private:
  void Finish(TaskState final_state);
};

}  // namespace gearbox::internal
