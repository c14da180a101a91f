// gearbox::AdminClient: a blocking client for the text admin protocol (status, workers, ...),
// as used by gearadmin. Owned by its creator; not thread-safe (one thread at a time).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "gearbox/error.h"
#include "gearbox/servers.h"

namespace gearbox {

class AdminClient {
 public:
  // Connects (resolving the host, trying each address) within `timeout`.
  static Expected<AdminClient> Connect(const ServerAddress& server,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  AdminClient(AdminClient&&) noexcept;
  AdminClient& operator=(AdminClient&&) noexcept;
  ~AdminClient();

  enum class Reply {
    kLine,  // one line: "OK\r\n", "OK 1.2\n", "ERR ...\r\n"
    kList,  // lines up to a line ".", or a single "ERR ..." line
  };
  // Sends `command` followed by "\r\n" and returns the raw reply bytes, line endings included.
  // Errors: kConnectionLost (the server closed before the reply was complete), kTimeout.
  Expected<std::string> Execute(std::string_view command, Reply reply,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The reply shape of a gearmand text command: kList for status, prioritystatus, workers,
  // show jobs and show unique jobs; kLine for everything else.
  static Reply ReplyFor(std::string_view command);

 private:
  struct Impl;
  explicit AdminClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gearbox
