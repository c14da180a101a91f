#include "client/connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gearbox::client {

std::string ErrnoText(int err) {
  return std::strerror(err);
}

Connection::Connection(ServerAddress address)
    : address_(std::move(address)), name_(address_.ToString()) {}

Connection::~Connection() {
  Close();
}

Error Connection::Failure(Errc code, const std::string& what) const {
  return Error(code, what, {}, name_);
}

Expected<void> Connection::StartConnect() {
  Close();
  addrs_.clear();
  addr_lens_.clear();
  next_addr_ = 0;
  last_connect_error_.clear();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string port = std::to_string(address_.port);
  int rc = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
  if (rc == EAI_BADFLAGS || (rc != 0 && rc != EAI_NONAME && rc != EAI_AGAIN)) {
    hints.ai_flags = 0;
    rc = ::getaddrinfo(address_.host.c_str(), port.c_str(), &hints, &res);
  }
  if (rc != 0) {
    return Failure(Errc::kConnectFailed,
                   "cannot resolve '" + address_.host + "': " + ::gai_strerror(rc));
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    addrs_.push_back(ss);
    addr_lens_.push_back(static_cast<socklen_t>(ai->ai_addrlen));
  }
  ::freeaddrinfo(res);
  return TryAddresses();
}

Expected<void> Connection::TryAddresses() {
  while (next_addr_ < addrs_.size()) {
    size_t i = next_addr_++;
    const auto* sa = reinterpret_cast<const sockaddr*>(&addrs_[i]);
    int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_connect_error_ = ErrnoText(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    int rc;
    do {
      rc = ::connect(fd, sa, addr_lens_[i]);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
      fd_ = fd;
      state_ = State::kConnected;
      return {};
    }
    if (errno == EINPROGRESS) {
      fd_ = fd;
      state_ = State::kConnecting;
      return {};
    }
    last_connect_error_ = ErrnoText(errno);
    ::close(fd);
  }
  state_ = State::kClosed;
  return Failure(
      Errc::kConnectFailed,
      "cannot connect to " + name_ + ": " +
          (last_connect_error_.empty() ? std::string("no usable address") : last_connect_error_));
}

Expected<bool> Connection::ContinueConnect() {
  if (state_ == State::kConnected) return true;
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) {
    state_ = State::kConnected;
    return true;
  }
  last_connect_error_ = ErrnoText(err);
  ::close(fd_);
  fd_ = -1;
  auto r = TryAddresses();
  if (!r.ok()) return r.error();
  return state_ == State::kConnected;
}

Expected<void> Connection::Read() {
  char buf[64 * 1024];
  for (int rounds = 0; rounds < 16; ++rounds) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in_.Feed(std::string_view(buf, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) < sizeof(buf)) return {};
      continue;
    }
    if (n == 0) return Failure(Errc::kConnectionLost, name_ + " closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    return Failure(Errc::kConnectionLost, "reading from " + name_ + ": " + ErrnoText(errno));
  }
  return {};
}

Expected<bool> Connection::Next(protocol::Frame* frame) {
  while (true) {
    protocol::Item item;
    auto r = in_.Next(&item);
    switch (r.status) {
      case protocol::DecodeResult::Status::kNeedMore:
        return false;
      case protocol::DecodeResult::Status::kItem:
        if (item.kind != protocol::Item::Kind::kPacket) {
          return Failure(Errc::kProtocolError,
                         name_ + " sent a text line where a binary packet was expected");
        }
        *frame = item.frame;
        return true;
      case protocol::DecodeResult::Status::kSkip:
        // An unknown or malformed packet: framed, so the stream survives; skip it.
        continue;
      case protocol::DecodeResult::Status::kFatal:
        return Failure(Errc::kProtocolError, name_ + " sent an undecodable stream (" +
                                                 std::string(protocol::ErrorName(r.error)) + ")");
    }
  }
}

Expected<void> Connection::Flush() {
  while (!out_.empty()) {
    iovec iov[64];
    int n = out_.FillIov(iov, 64);
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      return Failure(Errc::kConnectionLost, "writing to " + name_ + ": " + ErrnoText(errno));
    }
    out_.Consume(static_cast<size_t>(w));
  }
  return {};
}

bool Connection::PeerClosed() const {
  if (state_ != State::kConnected) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return false;
}

void Connection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  state_ = State::kClosed;
  out_.Clear();
  in_ = protocol::StreamDecoder();
}

short Connection::PollEvents() const {
  switch (state_) {
    case State::kClosed:
      return 0;
    case State::kConnecting:
      return POLLOUT;
    case State::kConnected:
      return static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT));
  }
  return 0;
}

}  // namespace gearbox::client
