// ClientSession: the protocol state of one client connection. The protocol has no request
// ids, so every reply is matched to the oldest request still owed one (JOB_CREATED, ERROR,
// STATUS_RES, ECHO_RES, OPTION_RES arrive in request order); WORK_* packets are matched to
// accepted foreground jobs by handle. Pure: no sockets and no clock, so tests drive it packet
// by packet. Owned by the Client loop for one server; not thread-safe.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/byte_queue.h"
#include "client/task.h"
#include "gearbox/error.h"
#include "gearbox/servers.h"
#include "protocol/codec.h"

namespace gearbox::client {

using internal::TaskImpl;

class ClientSession {
 public:
  explicit ClientSession(std::string server_name, LogFn log = {});

  // Encodes the request into `out`. Tasks that expect a direct reply are remembered in order.
  void Send(const std::shared_ptr<TaskImpl>& task, ByteQueue& out);
  // SET_CLIENT_ID has no reply.
  static void SendClientId(std::string_view id, ByteQueue& out);

  // Handles one packet from the server; runs task callbacks. An error means the stream cannot
  // be trusted any more and the connection must be closed (the session is left as it was;
  // call TakeAll()).
  Expected<void> OnPacket(const protocol::Frame& frame);

  // Requests written whose direct reply has not arrived yet.
  size_t awaiting_reply() const { return awaiting_.size(); }
  // Accepted foreground jobs waiting for their result.
  size_t running_jobs() const { return by_handle_.size(); }
  bool idle() const { return awaiting_.empty() && by_handle_.empty(); }
  // Whether the server accepted OPTION_REQ "exceptions" on this connection.
  bool exceptions() const { return exceptions_; }

  // Every task still owed something by this connection (unanswered requests in order, then
  // accepted foreground jobs); the session is then empty, as for a fresh connection.
  std::vector<std::shared_ptr<TaskImpl>> TakeAll();

 private:
  Error Mismatch(const protocol::Frame& frame) const;
  std::vector<std::shared_ptr<TaskImpl>>* Lookup(std::string_view handle);

  std::string server_;
  LogFn log_;
  std::deque<std::shared_ptr<TaskImpl>> awaiting_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<TaskImpl>>> by_handle_;
  bool exceptions_ = false;
};

// Parses a decimal field of a STATUS_RES-style reply (non-digits end the number).
uint32_t ParseU32(std::string_view s);

}  // namespace gearbox::client
