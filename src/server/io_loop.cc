#include "server/io_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "server/uring.h"

namespace gearbox::server {

namespace {
constexpr size_t kScratchSize = 64 * 1024;
constexpr int kReadRounds = 4;  // fairness: at most this many reads per connection per turn
constexpr int kMaxIov = 64;

std::string PeerString(const sockaddr_storage& ss, bool* loopback) {
  char host[NI_MAXHOST] = "";
  socklen_t len = ss.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  ::getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof(host), nullptr, 0,
                NI_NUMERICHOST);
  *loopback = false;
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  } else if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
                (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
  } else if (ss.ss_family == AF_UNIX) {
    *loopback = true;
  }
  return host;
}
}  // namespace

// ---------------------------------------------------------------------------------------------

char* InBuffer::Reserve(size_t n) {
  if (cap_ - len_ < n) {
    size_t want = std::max(len_ + n, cap_ * 2);
    std::unique_ptr<char[]> d(new char[want]);
    if (len_ > 0) std::memcpy(d.get(), data_.get(), len_);
    data_ = std::move(d);
    cap_ = want;
  }
  return data_.get() + len_;
}

void InBuffer::Consume(size_t n) {
  if (n == 0) return;  // nothing complete yet: keep the partial item where it is
  if (n >= len_) {
    len_ = 0;
    data_.reset();
    cap_ = 0;
    return;
  }
  std::memmove(data_.get(), data_.get() + n, len_ - n);
  len_ -= n;
}

void InBuffer::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(Reserve(bytes.size()), bytes.data(), bytes.size());
  len_ += bytes.size();
}

void InBuffer::Assign(std::string_view bytes) {
  len_ = 0;
  if (bytes.empty()) {
    data_.reset();
    cap_ = 0;
    return;
  }
  std::memcpy(Reserve(bytes.size()), bytes.data(), bytes.size());
  len_ = bytes.size();
}

// ---------------------------------------------------------------------------------------------

IoLoop::IoLoop(EventLoop& loop, IoConfig config, uint32_t index, uint32_t stride)
    : loop_(loop), config_(config), index_(index), stride_(stride) {
  scratch_.reset(new char[kScratchSize]);
  if (config_.hard_limit == 0) {
    config_.hard_limit = 2 * size_t{config_.limits.max_packet} + 64 * 1024 * 1024;
  }
  uring_ = loop_.uring();
  if (uring_ != nullptr) {
    loop_.SetCompletionHandler([this](io_uring_cqe* cqe) { OnCompletion(cqe); });
  }
}

IoLoop::~IoLoop() {
  CloseAll();
}

Connection* IoLoop::Lookup(core::SessionId sid) const {
  uint32_t slot = (sid - index_) / stride_;
  if (slot >= slots_.size()) return nullptr;
  return slots_[slot].get();
}

void IoLoop::Adopt(int fd, const sockaddr_storage& peer) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // Accepted sockets always get SO_KEEPALIVE (as in gearmand); --keepalive-* tune it.
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  if (config_.keepalive) {
    if (config_.keepalive_idle > 0) {
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &config_.keepalive_idle, sizeof(int));
    }
    if (config_.keepalive_interval > 0) {
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &config_.keepalive_interval, sizeof(int));
    }
    if (config_.keepalive_count > 0) {
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &config_.keepalive_count, sizeof(int));
    }
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  auto c = std::make_unique<Connection>();
  c->owner = this;
  c->fd = fd;
  c->sid = index_ + slot * stride_;
  if (uring_) {
    // io_uring waits for readiness itself; a non-blocking socket would make it return EAGAIN.
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  } else {
    c->read_ev = event_new(loop_.base(), fd, EV_READ | EV_PERSIST, &IoLoop::OnReadable, c.get());
    c->write_ev = event_new(loop_.base(), fd, EV_WRITE | EV_PERSIST, &IoLoop::OnWritable, c.get());
  }
  Connection* raw = c.get();
  slots_[slot] = std::move(c);
  ++live_;
  core::SessionInfo info;
  info.fd = fd;
  info.peer = PeerString(peer, &info.loopback);
  GB_LOG(kInfo, "Accepted connection from {} (fd {})", info.peer, fd);
  sink_->Opened(raw->sid, std::move(info));
  SetReading(raw, true);
}

void IoLoop::SetReading(Connection* c, bool on) {
  if (c->reading == on) return;
  c->reading = on;
  if (uring_) {
    if (on) {
      ArmRecv(c);
    } else {
      CancelRecv(c);
    }
  } else if (on) {
    event_add(c->read_ev, nullptr);
  } else {
    event_del(c->read_ev);
  }
}

void IoLoop::SetWriting(Connection* c, bool on) {
  if (uring_ || c->writing == on) return;
  c->writing = on;
  if (on) {
    event_add(c->write_ev, nullptr);
  } else {
    event_del(c->write_ev);
  }
}

void IoLoop::OnReadable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->owner->Read(c);
}

void IoLoop::OnWritable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->owner->Flush(c);
}

size_t IoLoop::Scan(std::string_view data, size_t* need, protocol::DecodeError* fatal) const {
  size_t pos = 0;
  *need = 0;
  *fatal = protocol::DecodeError::kNone;
  protocol::Item item;
  while (pos < data.size()) {
    auto r = protocol::Decode(data.substr(pos), config_.limits, &item);
    using S = protocol::DecodeResult::Status;
    if (r.status == S::kItem || r.status == S::kSkip) {
      pos += r.consumed;
    } else if (r.status == S::kNeedMore) {
      *need = r.need;
      break;
    } else {
      *fatal = r.error;
      break;
    }
  }
  return pos;
}

void IoLoop::Ingest(Connection* c, std::string_view data) {
  std::string_view work = data;
  bool transient = c->in.empty();
  if (!transient) {
    c->in.Append(data);
    work = c->in.view();
  }
  size_t need = 0;
  protocol::DecodeError fatal;
  size_t run = Scan(work, &need, &fatal);
  if (run > 0) sink_->Items(c->sid, work.substr(0, run));
  if (fatal != protocol::DecodeError::kNone) {
    GB_LOG(kInfo, "Closing fd {}: {}", c->fd, protocol::ErrorName(fatal));
    c->in.Assign({});
    sink_->Fatal(c->sid, fatal);
    Shut(c);
    return;
  }
  if (transient) {
    std::string_view rest = work.substr(run);
    // A partial big packet: room for what its header declares, growing as bytes arrive.
    if (need > rest.size())
      c->in.Reserve(std::min(need, std::max<size_t>(64 * 1024, 4 * rest.size())));
    c->in.Append(rest);
  } else {
    c->in.Consume(run);
  }
  c->need = need;
}

void IoLoop::Read(Connection* c) {
  for (int round = 0; round < kReadRounds; ++round) {
    if (c->shut || !c->reading) return;
    char* dst;
    size_t room;
    bool into_scratch = c->in.empty();
    if (into_scratch) {
      dst = scratch_.get();
      room = kScratchSize;
    } else {
      // Grow toward the declared packet size as bytes arrive, never all at once.
      size_t want = kScratchSize;
      if (c->need > c->in.size()) {
        want = std::max(want, std::min(c->need - c->in.size(), std::max(c->in.size(), want)));
      }
      dst = c->in.Reserve(want);
      room = want;
    }
    ssize_t n = ::read(c->fd, dst, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      GB_LOG(kInfo, "Read error on fd {}: {}", c->fd, std::strerror(errno));
      c->dead = true;
      Shut(c);
      return;
    }
    if (n == 0) {
      OnPeerClosed(c);
      return;
    }
    if (into_scratch) {
      Ingest(c, std::string_view(dst, static_cast<size_t>(n)));
    } else {
      // The bytes are already in c->in: frame from there.
      c->in.Commit(static_cast<size_t>(n));
      std::string_view work = c->in.view();
      size_t need = 0;
      protocol::DecodeError fatal;
      size_t run = Scan(work, &need, &fatal);
      if (run > 0) sink_->Items(c->sid, work.substr(0, run));
      if (fatal != protocol::DecodeError::kNone) {
        GB_LOG(kInfo, "Closing fd {}: {}", c->fd, protocol::ErrorName(fatal));
        c->in.Assign({});
        sink_->Fatal(c->sid, fatal);
        Shut(c);
        return;
      }
      c->in.Consume(run);
      c->need = need;
    }
    if (static_cast<size_t>(n) < room) return;  // drained the socket
  }
}

void IoLoop::OnPeerClosed(Connection* c) {
  if (!c->in.empty() && c->in.view()[0] != '\0') {
    std::string line(c->in.view());
    line.push_back('\n');
    c->in.Assign({});
    size_t need = 0;
    protocol::DecodeError fatal;
    size_t run = Scan(line, &need, &fatal);
    if (run > 0) sink_->Items(c->sid, std::string_view(line).substr(0, run));
  }
  Shut(c);
}

void IoLoop::Shut(Connection* c) {
  if (c->shut) return;
  c->shut = true;
  SetReading(c, false);
  if (c->dead) {
    if (!c->write_inflight) c->out.Clear();
    SetWriting(c, false);
  }
  MarkDirty(c);
  sink_->Closed(c->sid);
}

void IoLoop::MarkDirty(Connection* c) {
  if (c->dirty) return;
  c->dirty = true;
  dirty_.push_back(c);
}

void IoLoop::Packet(core::SessionId sid, protocol::Command command,
                    std::initializer_list<std::string_view> parts) {
  Connection* c = Lookup(sid);
  if (c == nullptr || c->dead) return;
  protocol::AppendPacket(c->out, protocol::Magic::kResponse, command, parts);
  MarkDirty(c);
}

void IoLoop::Append(core::SessionId sid, std::string_view bytes) {
  Connection* c = Lookup(sid);
  if (c == nullptr || c->dead) return;
  c->out.Append(bytes);
  MarkDirty(c);
}

void IoLoop::Released(core::SessionId sid) {
  Connection* c = Lookup(sid);
  if (c == nullptr) return;
  c->released = true;
  MarkDirty(c);
}

void IoLoop::Flush(Connection* c) {
  if (uring_) {
    if (!c->dead && !c->write_inflight && !c->out.empty()) SubmitWrite(c);
  } else {
    while (!c->dead && !c->out.empty()) {
      iovec iov[kMaxIov];
      int cnt = c->out.FillIov(iov, kMaxIov);
      ssize_t n = ::writev(c->fd, iov, cnt);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        GB_LOG(kInfo, "Write error on fd {}: {}", c->fd, std::strerror(errno));
        c->dead = true;
        c->out.Clear();
        SetWriting(c, false);
        Shut(c);
        break;
      }
      c->out.Consume(static_cast<size_t>(n));
    }
    if (!c->dead) SetWriting(c, !c->out.empty());
  }
  if (c->dead) {
    MarkDirty(c);
    return;
  }
  // Back-pressure: a connection that does not read its replies stops being read.
  size_t pending = c->out.size();
  if (pending > config_.hard_limit) {
    GB_LOG(kError, "Closing fd {}: {} bytes of replies unread (the peer does not read)", c->fd,
           pending);
    Kill(c);
    if (!c->write_inflight) c->out.Clear();
    SetWriting(c, false);
    Shut(c);
    MarkDirty(c);
    return;
  }
  if (!c->shut) {
    if (!c->paused && pending > config_.high_water) {
      c->paused = true;
      SetReading(c, false);
    } else if (c->paused && pending < config_.low_water) {
      c->paused = false;
      SetReading(c, true);
    }
  }
}

void IoLoop::Kill(Connection* c) {
  if (c->dead) return;
  c->dead = true;
  // Operations in flight on the socket (a write to a peer that never reads) end now.
  if (c->pending_ops > 0) ::shutdown(c->fd, SHUT_RDWR);
}

bool IoLoop::Finished(const Connection* c) const {
  return c->shut && c->released && (c->dead || c->out.empty()) && c->pending_ops == 0;
}

void IoLoop::EndOfTurn() {
  if (sink_ != nullptr) sink_->EndOfTurn();
  // Flushing may mark more connections dirty (closures); loop until quiet.
  while (!dirty_.empty()) {
    std::vector<Connection*> batch;
    batch.swap(dirty_);
    for (Connection* c : batch)
      c->dirty = false;
    for (Connection* c : batch) {
      if (!c->dead) Flush(c);  // also when empty: a drained queue may resume reading
    }
    for (Connection* c : batch) {
      if (Finished(c)) {
        Destroy(c);
      } else if (uring_ && c->shut && c->released && (c->dead || c->out.empty()) && c->recv_armed) {
        CancelRecv(c);  // the last operation standing; Destroy follows its completion
      }
    }
  }
  if (uring_) {
    // Receives that found no free buffer try again now that this turn returned some.
    if (!starved_.empty()) {
      std::vector<Connection*> again;
      again.swap(starved_);
      for (Connection* c : again) {
        if (c->reading && !c->shut && !c->recv_armed) ArmRecv(c);
      }
    }
    // The loop submits everything queued this turn when it waits next.
  }
}

void IoLoop::Destroy(Connection* c) {
  uint32_t slot = (c->sid - index_) / stride_;
  GB_LOG(kInfo, "Closed connection fd {}", c->fd);
  if (c->read_ev != nullptr) event_free(c->read_ev);
  if (c->write_ev != nullptr) event_free(c->write_ev);
  ::close(c->fd);
  // Remove from the lists it may still be on.
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), c), dirty_.end());
  starved_.erase(std::remove(starved_.begin(), starved_.end(), c), starved_.end());
  slots_[slot].reset();
  free_slots_.push_back(slot);
  --live_;
}

void IoLoop::FlushAndCloseAll(int64_t timeout_ms) {
  int64_t deadline = SteadyMillis() + timeout_ms;
  for (;;) {
    EndOfTurn();
    bool busy = false;
    for (auto& c : slots_) {
      if (c && !c->dead && (!c->out.empty() || c->write_inflight)) busy = true;
    }
    int64_t left = deadline - SteadyMillis();
    if (!busy || left <= 0) break;
    loop_.Poll(std::min<int64_t>(left, 50));
  }
  CloseAll();
}

void IoLoop::CloseAll() {
  for (auto& c : slots_) {
    if (!c) continue;
    if (c->read_ev != nullptr) event_free(c->read_ev);
    if (c->write_ev != nullptr) event_free(c->write_ev);
    ::close(c->fd);
  }
  // With io_uring, in-flight operations still reference connections; the loop stops before
  // the ring is torn down, and no completion is dispatched after this.
  if (uring_ != nullptr) loop_.SetCompletionHandler(nullptr);
  slots_.clear();
  dirty_.clear();
  starved_.clear();
  live_ = 0;
}

// ---------------------------------------------------------------------------------------------
// io_uring engine. user_data = Connection* | operation (connections are 8-byte aligned).

namespace {
constexpr uint64_t kOpRecv = 1;
constexpr uint64_t kOpWrite = 2;
constexpr uint64_t kOpCancel = 3;
constexpr uint64_t kOpMask = 7;
}  // namespace

void IoLoop::ArmRecv(Connection* c) {
  if (c->recv_armed || c->shut) return;
  io_uring_sqe* sqe = uring_->Sqe();
  io_uring_prep_recv_multishot(sqe, c->fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = static_cast<uint16_t>(uring_->buffer_group());
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(c) | kOpRecv);
  c->recv_armed = true;
  ++c->pending_ops;
}

void IoLoop::CancelRecv(Connection* c) {
  if (!c->recv_armed) return;
  io_uring_sqe* sqe = uring_->Sqe();
  io_uring_prep_cancel64(sqe, reinterpret_cast<uint64_t>(c) | kOpRecv, 0);
  io_uring_sqe_set_data64(sqe, kOpCancel);
}

void IoLoop::SubmitWrite(Connection* c) {
  iovec first[kMaxIov];
  int cnt = c->out.FillIov(first, kMaxIov);
  io_uring_sqe* sqe = uring_->Sqe();
  if (cnt == 1) {
    // The common case (one chunk): send() needs no vector that outlives this call, and skips
    // the generic write path.
    io_uring_prep_send(sqe, c->fd, first[0].iov_base, first[0].iov_len, MSG_NOSIGNAL);
  } else {
    // The vector must stay valid until the write completes; only multi-chunk writes pay for it.
    if (!c->iov) c->iov.reset(new iovec[kMaxIov]);
    std::copy(first, first + cnt, c->iov.get());
    io_uring_prep_writev(sqe, c->fd, c->iov.get(), static_cast<unsigned>(cnt), 0);
  }
  io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(c) | kOpWrite);
  c->write_inflight = true;
  ++c->pending_ops;
}

void IoLoop::OnCompletion(io_uring_cqe* cqe) {
  {
    uint64_t ud = io_uring_cqe_get_data64(cqe);
    uint64_t op = ud & kOpMask;
    if (op == kOpCancel || ud == 0) return;
    auto* c = reinterpret_cast<Connection*>(ud & ~kOpMask);
    int res = cqe->res;
    if (op == kOpRecv) {
      bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
      if (cqe->flags & IORING_CQE_F_BUFFER) {
        auto bid = static_cast<uint16_t>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        if (res > 0 && !c->shut) Ingest(c, uring_->Buffer(bid, static_cast<size_t>(res)));
        uring_->ReturnBuffer(bid);
      }
      if (!more) {
        c->recv_armed = false;
        --c->pending_ops;
        if (res == 0 && !c->shut) {
          OnPeerClosed(c);
        } else if (res == -ENOBUFS) {
          if (c->reading && !c->shut) starved_.push_back(c);
        } else if (res < 0 && res != -ECANCELED && !c->shut) {
          GB_LOG(kInfo, "Read error on fd {}: {}", c->fd, std::strerror(-res));
          Kill(c);
          Shut(c);
        } else if (c->reading && !c->shut) {
          // The kernel ended the multishot, or reading resumed before a cancel completed.
          ArmRecv(c);
        }
      }
    } else if (op == kOpWrite) {
      c->write_inflight = false;
      --c->pending_ops;
      if (res < 0) {
        if (res != -EAGAIN && res != -EINTR) {
          if (!c->dead) GB_LOG(kInfo, "Write error on fd {}: {}", c->fd, std::strerror(-res));
          Kill(c);
          c->out.Clear();
          Shut(c);
        }
      } else {
        c->out.Consume(static_cast<size_t>(res));
      }
      if (c->dead) c->out.Clear();
      if (c->out.empty()) c->iov.reset();
    }
    MarkDirty(c);
  }
}

}  // namespace gearbox::server
