// The epoll engine of gearbox-load's Loop: level-triggered epoll over non-blocking sockets, one
// recv per readable connection into a shared scratch buffer, and one send per connection with
// output at the end of each turn. The fallback when io_uring is not usable.
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine.h"

namespace gearbox::load {

namespace {
constexpr size_t kScratchSize = 256 * 1024;
constexpr size_t kMaxEvents = 512;
}  // namespace

bool Conn::ReadAndDispatch(char* scratch, size_t scratch_size) {
  if (in_len_ == 0) {
    ssize_t n = ::recv(fd_, scratch, scratch_size, 0);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    Ingest(scratch, static_cast<size_t>(n));  // dispatches in place, keeps a split packet
    return !closed_;
  }
  // Part of a packet is buffered: read the rest behind it.
  size_t want = std::max(in_need_, in_len_ + 16 * 1024);
  if (want > in_cap_) {
    std::unique_ptr<char[]> bigger(new char[want]);
    std::memcpy(bigger.get(), in_.get(), in_len_);
    in_ = std::move(bigger);
    in_cap_ = want;
  }
  ssize_t n = ::recv(fd_, in_.get() + in_len_, in_cap_ - in_len_, 0);
  if (n == 0) return false;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  in_len_ += static_cast<size_t>(n);
  size_t used = Dispatch(in_.get(), in_len_);
  if (used > 0) {
    std::memmove(in_.get(), in_.get() + used, in_len_ - used);
    in_len_ -= used;
  }
  if (in_len_ == 0 && in_cap_ > 1024 * 1024) {  // do not keep a large-payload buffer around
    in_.reset();
    in_cap_ = 0;
  }
  return !closed_;
}

bool Conn::Flush() {
  while (out_pos_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return false;
    }
    out_pos_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_pos_ = 0;
  if (out_.capacity() > 4 * 1024 * 1024) out_.shrink_to_fit();
  return true;
}

// ---------------------------------------------------------------------------------------------

// One epoll instance; owned by its Loop's thread.
class EpollLoop final : public Loop {
 public:
  EpollLoop() : Loop(IoEngine::kEpoll), events_(kMaxEvents), scratch_(new char[kScratchSize]) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  }
  ~EpollLoop() override {
    conns_.clear();
    if (epfd_ >= 0) ::close(epfd_);
  }
  bool ok() const { return epfd_ >= 0; }

 protected:
  void Register(Conn* c) override {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = c;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd(), &ev) != 0) {
      c->Fail(std::string("epoll_ctl: ") + std::strerror(errno));
    }
  }

  void Wait(int64_t timeout_ns) override {
    int n;
    if (pwait2_) {
      timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                  static_cast<long>(timeout_ns % 1'000'000'000)};
      n = ::epoll_pwait2(epfd_, events_.data(), static_cast<int>(events_.size()), &ts, nullptr);
      if (n < 0 && errno == ENOSYS) pwait2_ = false;
    }
    if (!pwait2_) {
      int ms = static_cast<int>((timeout_ns + 999'999) / 1'000'000);  // never shorter
      n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), ms);
    }
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<Conn*>(events_[i].data.ptr);
      if (c->closed_) continue;
      uint32_t ev = events_[i].events;
      if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        if (!c->ReadAndDispatch(scratch_.get(), kScratchSize)) {
          LostConnection(c, "server closed the connection");
          continue;
        }
      }
      if ((ev & EPOLLOUT) != 0) MarkDirty(c);
    }
  }

  void FlushDirty() override {
    // Flushing never queues more output, so the list cannot grow while we walk it.
    for (Conn* c : dirty_) {
      c->dirty_ = false;
      if (c->closed_) continue;
      if (!c->Flush()) {
        c->Fail(std::string("write to the server failed: ") + std::strerror(errno));
        Close(c);
        continue;
      }
      SetWriteInterest(c, c->out_pos_ < c->out_.size());
    }
    dirty_.clear();
  }

  void Close(Conn* c) override {
    c->closed_ = true;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd(), nullptr);
  }

 private:
  void SetWriteInterest(Conn* c, bool on) {
    if (c->want_write_ == on) return;
    c->want_write_ = on;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.ptr = c;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c->fd(), &ev);
  }

  int epfd_ = -1;
  bool pwait2_ = true;  // epoll_pwait2 (Linux 5.11) waits with microsecond timeouts
  std::vector<epoll_event> events_;
  std::unique_ptr<char[]> scratch_;
};

std::unique_ptr<Loop> NewEpollLoop(std::string* why_not) {
  auto loop = std::make_unique<EpollLoop>();
  if (!loop->ok()) {
    *why_not = std::string("epoll_create1: ") + std::strerror(errno);
    return nullptr;
  }
  return loop;
}

}  // namespace gearbox::load
