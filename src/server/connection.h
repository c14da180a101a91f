// Connection: one accepted TCP socket with its input buffer, output queue and libevent events.
// Owned by the IoLoop of one thread and touched only by that thread. It frames input into runs
// of complete items and hands them to a CoreSink; the core's replies come back through IoLoop.
#pragma once

#include <event2/event.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/byte_queue.h"
#include "core/entities.h"

namespace gearbox::server {

// Input bytes of a connection that do not yet form a complete item. Memory is committed as
// bytes arrive (geometric growth toward what the packet header declares), and released when
// the buffer empties, so an idle connection holds none.
class InBuffer {
 public:
  bool empty() const { return len_ == 0; }
  size_t size() const { return len_; }
  std::string_view view() const { return {data_.get(), len_}; }
  // Room for at least n more bytes at the tail.
  char* Reserve(size_t n);
  void Commit(size_t n) { len_ += n; }
  void Consume(size_t n);
  void Assign(std::string_view bytes);
  void Append(std::string_view bytes);
  size_t capacity() const { return cap_; }

 private:
  std::unique_ptr<char[]> data_;
  size_t cap_ = 0;
  size_t len_ = 0;
};

class IoLoop;

struct Connection {
  IoLoop* owner = nullptr;
  core::SessionId sid = 0;
  int fd = -1;
  event* read_ev = nullptr;
  event* write_ev = nullptr;
  InBuffer in;
  ByteQueue out;
  size_t need = 0;            // total bytes the partial item at the head of `in` needs
  bool reading = false;       // read event armed
  bool paused = false;        // reading held back (output back-pressure)
  bool writing = false;       // write event armed
  bool dirty = false;         // on the loop's flush list
  bool shut = false;          // no more input: the sink has been told Closed()
  bool dead = false;          // socket unusable: output is dropped
  bool released = false;      // the core has forgotten the session
  // io_uring engine only:
  bool recv_armed = false;    // a multishot receive is pending
  bool write_inflight = false;
  int pending_ops = 0;        // submitted operations not yet completed
  std::unique_ptr<iovec[]> iov;  // the in-flight write's vector (kept until it completes)
};

}  // namespace gearbox::server
