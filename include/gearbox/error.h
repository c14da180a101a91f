// gearbox::Error and gearbox::Expected<T>: how every library call reports failure.
// Value types with no shared state; any thread may use its own instances.
//
// THE RULE (errors are values; exceptions are opt-in):
//   * Every call that can fail because of its arguments, the network, a server or a job returns
//     Expected<T> (or Expected<void>). The library itself never throws for these.
//   * Expected<T>::value() on an Expected that holds an error throws gearbox::Exception, which
//     carries the Error. Callers who prefer exceptions write `client.Do(...).value()`; callers who
//     prefer values test `ok()` first and read `error()`.
//   * std::bad_alloc may escape, as from any C++ library.
//   * An exception thrown by your own worker handler is caught by the worker and reported to the
//     client as WORK_EXCEPTION (see worker.h); it never unwinds into the library's loop.
#pragma once

#include <cassert>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace gearbox {

// What went wrong, coarsely; Error::message() says it precisely.
enum class Errc {
  kInvalidArgument,  // a bad argument: server list, function name, unique key too long, ...
  kConnectFailed,    // no server could be reached (each server's reason is in the message)
  kConnectionLost,   // a server went away while a reply or a job result was owed
  kTimeout,          // a deadline passed (per call, connect, or reply timeout)
  kServerError,      // the server answered ERROR; detail() holds its code, e.g. "QUEUE_ERROR"
  kJobFailed,        // the worker reported WORK_FAIL
  kJobException,     // the worker reported WORK_EXCEPTION; detail() holds its data
  kProtocolError,    // the server sent bytes the Gearman protocol does not allow here
  kStopped,          // Client::Interrupt() or Worker::Stop() ended the call
};

// A short stable name for a code, e.g. "connect_failed".
std::string_view ErrcName(Errc code);

class Error {
 public:
  Error(Errc code, std::string message, std::string detail = {}, std::string server = {})
      : code_(code),
        message_(std::move(message)),
        detail_(std::move(detail)),
        server_(std::move(server)) {}

  Errc code() const { return code_; }
  // A complete sentence for a human: what failed, where, and what to check.
  const std::string& message() const { return message_; }
  // Machine-readable extra: the server's ERROR code, or a job's exception data.
  const std::string& detail() const { return detail_; }
  // "host:port" of the server involved, when one was.
  const std::string& server() const { return server_; }

  bool operator==(Errc code) const { return code_ == code; }

 private:
  Errc code_;
  std::string message_;
  std::string detail_;
  std::string server_;
};

// Thrown only by Expected<T>::value() when it holds an error.
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error) : std::runtime_error(error.message()), error_(std::move(error)) {}
  const Error& error() const { return error_; }

 private:
  Error error_;
};

// A value of type T, or an Error. Like C++23 std::expected, reduced to what the library needs.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Throws gearbox::Exception when this holds an error.
  T& value() & {
    Check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    Check();
    return std::get<0>(v_);
  }
  T&& value() && {
    Check();
    return std::get<0>(std::move(v_));
  }
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  // Unchecked access; precondition ok().
  T& operator*() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& operator*() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T* operator->() {
    assert(ok());
    return &std::get<0>(v_);
  }
  const T* operator->() const {
    assert(ok());
    return &std::get<0>(v_);
  }

  // Precondition !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  void Check() const {
    if (!ok()) throw Exception(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  // Throws gearbox::Exception when this holds an error.
  void value() const {
    if (error_) throw Exception(*error_);
  }
  // Precondition !ok().
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace gearbox
