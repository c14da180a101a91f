#include "client/task.h"

namespace gearbox {

namespace {
const std::string kEmpty;
}

const std::string& Task::function() const {
  return impl_ ? impl_->function : kEmpty;
}
const std::string& Task::unique() const {
  return impl_ ? impl_->unique : kEmpty;
}
bool Task::background() const {
  return impl_ && impl_->background;
}
TaskState Task::state() const {
  return impl_ ? impl_->state : TaskState::kPending;
}
bool Task::finished() const {
  return impl_ && impl_->finished();
}
bool Task::ok() const {
  return impl_ && impl_->state == TaskState::kDone;
}
const std::string& Task::handle() const {
  return impl_ ? impl_->handle : kEmpty;
}
const std::string& Task::server() const {
  return impl_ ? impl_->server_name : kEmpty;
}
const std::string& Task::result() const {
  return impl_ ? impl_->result : kEmpty;
}
const Error& Task::error() const {
  static const Error kNoError(Errc::kInvalidArgument, "the task has not failed");
  return impl_ && impl_->error ? *impl_->error : kNoError;
}
uint32_t Task::numerator() const {
  return impl_ ? impl_->numerator : 0;
}
uint32_t Task::denominator() const {
  return impl_ ? impl_->denominator : 0;
}

namespace internal {

Task TaskImpl::AsTask() {
  return Task(shared_from_this());
}

std::string TaskImpl::Describe() const {
  switch (kind) {
    case Kind::kJob: {
      std::string s = background ? "background job" : "job";
      s += " for function '" + function + "'";
      if (!handle.empty()) s += " (" + handle + ")";
      return s;
    }
    case Kind::kStatus:
      return "GET_STATUS for '" + payload + "'";
    case Kind::kStatusUnique:
      return "GET_STATUS_UNIQUE for '" + payload + "'";
    case Kind::kEcho:
      return "ECHO_REQ";
    case Kind::kOption:
      return "OPTION_REQ '" + payload + "'";
  }
  return "request";
}

void TaskImpl::Created(std::string_view job_handle) {
  if (finished()) return;
  handle.assign(job_handle);
  if (background) {
    state = TaskState::kDone;
    if (!abandoned && handlers.on_created) handlers.on_created(AsTask());
    Finish(TaskState::kDone);
    return;
  }
  state = TaskState::kQueued;
  if (!abandoned && handlers.on_created) handlers.on_created(AsTask());
}

void TaskImpl::Data(std::string_view data) {
  if (finished()) return;
  if (collect_data) result.append(data);
  if (!abandoned && handlers.on_data) handlers.on_data(AsTask(), data);
}

void TaskImpl::Warning(std::string_view data) {
  if (finished()) return;
  if (!abandoned && handlers.on_warning) handlers.on_warning(AsTask(), data);
}

void TaskImpl::Status(uint32_t num, uint32_t den) {
  if (finished()) return;
  numerator = num;
  denominator = den;
  if (!abandoned && handlers.on_status) handlers.on_status(AsTask(), num, den);
}

void TaskImpl::Complete(std::string_view data) {
  if (finished()) return;
  result.append(data);
  state = TaskState::kDone;
  if (!abandoned && handlers.on_complete) {
    handlers.on_complete(AsTask(), collect_data ? std::string_view(result) : data);
  }
  Finish(TaskState::kDone);
}

void TaskImpl::Exception(std::string_view data) {
  if (finished()) return;
  state = TaskState::kFailed;
  std::string text(data);
  error = Error(Errc::kJobException,
                "the worker raised an exception in " + Describe() + ": " + text, text, server_name);
  if (!abandoned) {
    if (handlers.on_exception) {
      handlers.on_exception(AsTask(), data);
    } else if (handlers.on_fail) {
      handlers.on_fail(AsTask(), *error);
    }
  }
  Finish(TaskState::kFailed);
}

void TaskImpl::Fail(Error e) {
  if (finished()) return;
  state = TaskState::kFailed;
  error = std::move(e);
  if (!abandoned && handlers.on_fail) handlers.on_fail(AsTask(), *error);
  Finish(TaskState::kFailed);
}

void TaskImpl::Answer() {
  if (finished()) return;
  state = TaskState::kDone;
  Finish(TaskState::kDone);
}

void TaskImpl::Finish(TaskState final_state) {
  state = final_state;
  if (on_finished) {
    auto f = std::move(on_finished);
    on_finished = nullptr;
    f(*this);
  }
}

}  // namespace internal
}  // namespace gearbox
