// IoLoop: the connections of one event-loop thread. It accepts adopted sockets, reads and
// frames input, hands runs of complete items to a CoreSink, queues the core's replies and
// flushes them with writev once per loop turn, with back-pressure for slow readers.
// Owned by one thread; every method runs on that thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

#include "core/entities.h"
#include "protocol/codec.h"
#include "server/connection.h"
#include "server/event_loop.h"

struct io_uring_cqe;

namespace gearbox::io {
class Ring;
}  // namespace gearbox::io

namespace gearbox::server {

// Where a connection's input goes: straight into the job core, or into a batch for the core
// thread. Called on the I/O thread.
class CoreSink {
 public:
  virtual ~CoreSink() = default;
  virtual void Opened(core::SessionId sid, core::SessionInfo info) = 0;
  // A run of complete items (packets and text lines), exactly as read.
  virtual void Items(core::SessionId sid, std::string_view run) = 0;
  // The stream is broken: the core replies with an error; Closed() follows.
  virtual void Fatal(core::SessionId sid, protocol::DecodeError error) = 0;
  // No more input will come; the core forgets the session and then calls IoLoop::Released().
  virtual void Closed(core::SessionId sid) = 0;
  // End of an I/O loop turn (batching sinks post their batch here).
  virtual void EndOfTurn() {}
};

struct IoConfig {
  protocol::Limits limits;
  bool keepalive = false;
  int keepalive_idle = -1;
  int keepalive_interval = -1;
  int keepalive_count = -1;
  size_t high_water = 4 * 1024 * 1024;  // stop reading a connection above this much output
  size_t low_water = 1024 * 1024;       // resume below this
  size_t hard_limit = 0;                // close a reader this far behind (0: derived)
  bool use_uring = true;                // io_uring for connection I/O when the kernel allows
};

class IoLoop {
 public:
  // Session ids of this loop are index + k * stride, so several loops never collide.
  IoLoop(EventLoop& loop, IoConfig config, uint32_t index, uint32_t stride);
  ~IoLoop();
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  void set_sink(CoreSink* sink) { sink_ = sink; }
  EventLoop& loop() { return loop_; }

  // Takes ownership of an accepted, non-blocking socket.
  void Adopt(int fd, const sockaddr_storage& peer);

  // Replies from the core.
  void Packet(core::SessionId sid, protocol::Command command,
              std::initializer_list<std::string_view> parts);
  void Append(core::SessionId sid, std::string_view bytes);
  // The core has forgotten the session: close once its output is written.
  void Released(core::SessionId sid);

  // Flushes output and frees finished connections; call after every loop turn.
  void EndOfTurn();
  // Writes what is queued for up to `timeout_ms` (shutdown), then closes every connection.
  void FlushAndCloseAll(int64_t timeout_ms);
  // Closes every connection now.
  void CloseAll();
  size_t connection_count() const { return live_; }
  // "io_uring" or "epoll".
  const char* engine() const { return uring_ ? "io_uring" : "epoll"; }

 private:
  static void OnReadable(evutil_socket_t fd, short what, void* arg);
  static void OnWritable(evutil_socket_t fd, short what, void* arg);
  Connection* Lookup(core::SessionId sid) const;
  void Read(Connection* c);
  // Frames newly received bytes (held in a transient buffer) and delivers complete items.
  void Ingest(Connection* c, std::string_view data);
  // Peer closed its side: a last text line without a newline still counts (nc-style).
  void OnPeerClosed(Connection* c);
  void Flush(Connection* c);
  // io_uring engine.
  void OnCompletion(io_uring_cqe* cqe);
  void ArmRecv(Connection* c);
  void CancelRecv(Connection* c);
  void SubmitWrite(Connection* c);
  bool Finished(const Connection* c) const;
  // Marks the socket unusable; with io_uring also ends its in-flight operations.
  void Kill(Connection* c);
  void Shut(Connection* c);
  void MarkDirty(Connection* c);
  void SetReading(Connection* c, bool on);
  void SetWriting(Connection* c, bool on);
  void Destroy(Connection* c);
  // Frames `data`: returns the length of the leading run of complete items.
  size_t Scan(std::string_view data, size_t* need, protocol::DecodeError* fatal) const;

  EventLoop& loop_;
  IoConfig config_;
  uint32_t index_;
  uint32_t stride_;
  CoreSink* sink_ = nullptr;
  std::vector<std::unique_ptr<Connection>> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Connection*> dirty_;
  std::unique_ptr<char[]> scratch_;
  size_t live_ = 0;
  io::Ring* uring_ = nullptr;         // the loop's ring (io_uring engine), else null
  std::vector<Connection*> starved_;  // receives that ran out of provided buffers
};

}  // namespace gearbox::server
