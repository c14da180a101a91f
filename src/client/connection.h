// Connection: one non-blocking TCP connection to one Gearman server, with its output queue
// and incremental packet decoder. Owned by the Client or Worker loop that polls it; not
// thread-safe (one loop thread).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "base/byte_queue.h"
#include "gearbox/error.h"
#include "gearbox/servers.h"
#include "protocol/codec.h"

namespace gearbox::client {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

class Connection {
 public:
  enum class State { kClosed, kConnecting, kConnected };

  explicit Connection(ServerAddress address);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ServerAddress& address() const { return address_; }
  // "host:port", used in messages and as the ring identity.
  const std::string& name() const { return name_; }
  State state() const { return state_; }
  int fd() const { return fd_; }

  // Resolves the host and starts a non-blocking connect to its first address that accepts one.
  // On success the state is kConnecting (or kConnected if the kernel finished at once).
  Expected<void> StartConnect();
  // Called when poll() reports the connecting socket ready: completes the connect, or moves on
  // to the host's next address. Returns true once connected.
  Expected<bool> ContinueConnect();

  // Reads what the socket has into the decoder (kConnectionLost on EOF or error).
  Expected<void> Read();
  // Decodes the next packet from what was read. false: more bytes needed. The frame's views
  // stay valid until the next Read(). Errors: kProtocolError (not a Gearman response stream).
  Expected<bool> Next(protocol::Frame* frame);

  ByteQueue& out() { return out_; }
  bool wants_write() const { return !out_.empty(); }
  // Writes as much queued output as the socket takes.
  Expected<void> Flush();

  // For an idle connection: true if the server has closed it (EOF or an error is pending), so
  // it can be replaced before a request is written into it.
  bool PeerClosed() const;

  // Closes the socket and drops buffered input and output.
  void Close();

  // Poll events this connection waits for.
  short PollEvents() const;

 private:
  Expected<void> TryAddresses();
  Error Failure(Errc code, const std::string& what) const;

  ServerAddress address_;
  std::string name_;
  State state_ = State::kClosed;
  int fd_ = -1;
  std::vector<sockaddr_storage> addrs_;
  std::vector<socklen_t> addr_lens_;
  size_t next_addr_ = 0;
  std::string last_connect_error_;
  ByteQueue out_;
  protocol::StreamDecoder in_;
};

// "Connection refused" etc. for errno values.
std::string ErrnoText(int err);

}  // namespace gearbox::client
