// The io_uring engine of gearbox-load's Loop, built like the server's (src/server/io_loop.cc):
// each connection has one multishot receive into the ring's provided buffers; the packets a
// turn produces are sent with one send per connection, queued during the turn and submitted
// together with the next wait, so a busy turn costs one io_uring_enter; at most one send is in
// flight per connection, and output queued meanwhile goes out when it completes. Timeouts are
// the wait's timeout.
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine.h"
#include "ring.h"

namespace gearbox::load {

namespace {
// user_data = Conn* | operation (a Conn is at least 8-byte aligned).
constexpr uint64_t kOpRecv = 1;
constexpr uint64_t kOpSend = 2;
constexpr uint64_t kOpCancel = 3;
constexpr uint64_t kOpMask = 7;
constexpr size_t kKeepSendBuffer = 4 * 1024 * 1024;  // larger send buffers are freed when done
}  // namespace

// One ring; owned by its Loop's thread.
class UringLoop final : public Loop {
 public:
  explicit UringLoop(std::unique_ptr<io::Ring> ring)
      : Loop(IoEngine::kUring), ring_(std::move(ring)) {}
  ~UringLoop() override {
    // Cancel every receive and send still in flight and collect their completions (bounded),
    // so that no operation outlives the connection buffers it uses; then the ring goes, then
    // the sockets.
    tearing_down_ = true;
    for (auto& c : conns_) {
      for (uint64_t op : {kOpRecv, kOpSend}) {
        if (op == kOpRecv ? !c->recv_armed_ : !c->send_inflight_) continue;
        io_uring_sqe* sqe = ring_->Sqe();
        io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(c.get()) | op, 0);
        io_uring_sqe_set_data64(sqe, kOpCancel);
      }
    }
    int64_t deadline = NowNs() + 1'000'000'000;
    while (InFlight() && NowNs() < deadline) {
      ring_->SubmitAndWait(50'000'000);
      ring_->Reap([this](io_uring_cqe* cqe) { OnCompletion(cqe); });
    }
    ring_.reset();
    conns_.clear();
  }

 protected:
  void Register(Conn* c) override {
    // io_uring waits for readiness itself; on a non-blocking socket a send could end in EAGAIN.
    int flags = ::fcntl(c->fd(), F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) != 0) ::fcntl(c->fd(), F_SETFL, flags & ~O_NONBLOCK);
    ArmRecv(c);
  }

  void Wait(int64_t timeout_ns) override {
    ring_->SubmitAndWait(std::max<int64_t>(timeout_ns, 0));
    ring_->Reap([this](io_uring_cqe* cqe) { OnCompletion(cqe); });
    // Receives that found no free buffer start again now that the buffers are back.
    if (!starved_.empty()) {
      std::vector<Conn*> again;
      again.swap(starved_);
      for (Conn* c : again) {
        if (!c->closed_) ArmRecv(c);
      }
    }
  }

  void FlushDirty() override {
    for (Conn* c : dirty_) {
      c->dirty_ = false;
      if (c->closed_ || c->send_inflight_ || c->out_.empty()) continue;
      c->sending_.swap(c->out_);  // out_ is now the (empty) buffer of the previous send
      c->send_pos_ = 0;
      SubmitSend(c);
    }
    dirty_.clear();
  }

  void Push() override { ring_->Submit(); }

  void Close(Conn* c) override {
    c->closed_ = true;
    if (c->recv_armed_) {
      io_uring_sqe* sqe = ring_->Sqe();
      io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(c) | kOpRecv, 0);
      io_uring_sqe_set_data64(sqe, kOpCancel);
    }
  }

 private:
  void ArmRecv(Conn* c) {
    if (c->recv_armed_ || c->closed_) return;
    io_uring_sqe* sqe = ring_->Sqe();
    io_uring_prep_recv_multishot(sqe, c->fd(), nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = static_cast<uint16_t>(ring_->buffer_group());
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(c) | kOpRecv);
    c->recv_armed_ = true;
  }

  void SubmitSend(Conn* c) {
    io_uring_sqe* sqe = ring_->Sqe();
    io_uring_prep_send(sqe, c->fd(), c->sending_.data() + c->send_pos_,
                       c->sending_.size() - c->send_pos_, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(c) | kOpSend);
    c->send_inflight_ = true;
  }

  bool InFlight() const {
    for (const auto& c : conns_) {
      if (c->recv_armed_ || c->send_inflight_) return true;
    }
    return false;
  }

  void OnCompletion(io_uring_cqe* cqe) {
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    uint64_t op = ud & kOpMask;
    if (op == kOpCancel || ud == 0) return;
    auto* c = reinterpret_cast<Conn*>(ud & ~kOpMask);
    int res = cqe->res;
    if (tearing_down_) {  // only account for the operation; the roles hear nothing more
      if ((cqe->flags & IORING_CQE_F_BUFFER) != 0) {
        ring_->ReturnBuffer(static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT));
      }
      if (op == kOpSend) c->send_inflight_ = false;
      if (op == kOpRecv && (cqe->flags & IORING_CQE_F_MORE) == 0) c->recv_armed_ = false;
      return;
    }
    if (op == kOpRecv) {
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if ((cqe->flags & IORING_CQE_F_BUFFER) != 0) {
        auto bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0 && !c->closed_) {
          std::string_view bytes = ring_->Buffer(bid, static_cast<size_t>(res));
          c->Ingest(bytes.data(), bytes.size());
        }
        ring_->ReturnBuffer(bid);
        if (c->closed_ && more) Close(c);  // an undecodable reply: stop reading
      }
      if (more) return;
      c->recv_armed_ = false;
      if (c->closed_) return;
      if (res == 0) {
        LostConnection(c, "server closed the connection");
      } else if (res == -ENOBUFS) {
        starved_.push_back(c);
      } else if (res < 0) {
        LostConnection(c, std::string("read from the server failed: ") + std::strerror(-res));
      } else {
        ArmRecv(c);  // the kernel ended the multishot receive: start another
      }
      return;
    }
    // kOpSend
    c->send_inflight_ = false;
    if (c->closed_) return;
    if (res < 0) {
      c->Fail(std::string("write to the server failed: ") + std::strerror(-res));
      Close(c);
      return;
    }
    c->send_pos_ += static_cast<size_t>(res);
    if (c->send_pos_ < c->sending_.size()) {
      SubmitSend(c);  // a short send: the rest goes with the next wait
      return;
    }
    c->sending_.clear();
    c->send_pos_ = 0;
    if (c->sending_.capacity() > kKeepSendBuffer) c->sending_.shrink_to_fit();
    if (!c->out_.empty()) MarkDirty(c);  // output queued while this send was in flight
  }

  std::unique_ptr<io::Ring> ring_;
  std::vector<Conn*> starved_;  // receives that ended for want of a buffer
  bool tearing_down_ = false;
};

std::unique_ptr<Loop> NewUringLoop(std::string* why_not, bool one_thread) {
  auto ring = CreateRing(one_thread, why_not);
  if (!ring) return nullptr;
  return std::make_unique<UringLoop>(std::move(ring));
}

}  // namespace gearbox::load
