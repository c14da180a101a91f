#include "server/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "base/log.h"

namespace gearbox::server {

Listener::~Listener() {
  Close();
}

Status Listener::Bind(const ListenConfig& config) {
  std::vector<std::string> hosts = config.hosts;
  bool any = hosts.empty();
  if (any) hosts.emplace_back();
  std::string errors;
  for (const auto& host : hosts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string port = config.port.empty() ? "4730" : config.port;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) {
      errors += "getaddrinfo(" + host + ":" + port + "): " + gai_strerror(rc) + "; ";
      continue;
    }
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      char hbuf[NI_MAXHOST] = "";
      char pbuf[NI_MAXSERV] = "";
      ::getnameinfo(ai->ai_addr, ai->ai_addrlen, hbuf, sizeof(hbuf), pbuf, sizeof(pbuf),
                    NI_NUMERICHOST | NI_NUMERICSERV);
      std::string desc = std::string(hbuf) + ":" + pbuf;
      GB_LOG(kDebug, "Trying to listen on {}", desc);
      int fd =
          ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) {
        errors += desc + ": socket: " + std::strerror(errno) + "; ";
        continue;
      }
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (ai->ai_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (config.keepalive) {
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        if (config.keepalive_idle > 0) {
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &config.keepalive_idle, sizeof(int));
        }
        if (config.keepalive_interval > 0) {
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &config.keepalive_interval, sizeof(int));
        }
        if (config.keepalive_count > 0) {
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &config.keepalive_count, sizeof(int));
        }
      }
      if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, config.backlog) != 0) {
        errors += desc + ": " + std::strerror(errno) + "; ";
        ::close(fd);
        continue;
      }
      sockaddr_storage bound{};
      socklen_t blen = sizeof(bound);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
      int bport =
          ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
      if (bound_port_ == 0) bound_port_ = bport;
      desc = std::string(hbuf) + ":" + std::to_string(bport);
      GB_LOG(kInfo, "Listening on {} ({})", desc, fd);
      fds_.push_back(fd);
      descriptions_.push_back(desc);
    }
    ::freeaddrinfo(res);
  }
  if (fds_.empty()) {
    return Status::IoError("Could not listen on any address: " + errors);
  }
  return Status::Ok();
}

void Listener::Start(EventLoop& loop, AcceptFn on_accept) {
  loop_ = &loop;
  on_accept_ = std::move(on_accept);
  resume_ = std::make_unique<Timer>(loop, [this] { Resume(); });
  Resume();
}

void Listener::Pause() {
  if (paused_) return;
  paused_ = true;
  for (auto* w : watches_)
    loop_->Unwatch(w);
  watches_.clear();
}

void Listener::Resume() {
  paused_ = false;
  if (!watches_.empty()) return;
  for (int fd : fds_)
    watches_.push_back(loop_->WatchReadable(fd, [this, fd] { Accept(fd); }));
}

void Listener::Close() {
  if (loop_ != nullptr) {
    for (auto* w : watches_)
      loop_->Unwatch(w);
  }
  loop_ = nullptr;
  watches_.clear();
  resume_.reset();
  for (int fd : fds_) {
    // shutdown() stops the listening at once, even while an io_uring poll still holds a
    // reference to the socket (close() alone would leave it accepting until that is gone).
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
  fds_.clear();
}

void Listener::Accept(int lfd) {
  // Drain the backlog: with the io_uring engine a watch fires on new readiness only, so a
  // connection left pending here would wait for the next one to arrive.
  for (;;) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: pause accepting briefly instead of spinning, log once a minute.
        int64_t now = static_cast<int64_t>(::time(nullptr));
        if (now - last_emfile_log_ >= 60) {
          GB_LOG(kError, "accept: {} (raise -f/--file-descriptors); pausing accepts",
                 std::strerror(errno));
          last_emfile_log_ = now;
        }
        Pause();
        resume_->Arm(100);
      }
      return;
    }
    on_accept_(fd, peer);
  }
}

}  // namespace gearbox::server
