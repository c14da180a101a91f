// Listener: the listening sockets for -L/-p (every address getaddrinfo returns), and the accept
// loop that hands each new socket to a callback. Owned by the thread whose loop runs it.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <string>
#include <vector>

#include <memory>

#include "base/status.h"
#include "server/event_loop.h"

namespace gearbox::server {

struct ListenConfig {
  std::vector<std::string> hosts;  // empty: every address
  std::string port = "4730";
  int backlog = 32;
  bool keepalive = false;
  int keepalive_idle = -1;
  int keepalive_interval = -1;
  int keepalive_count = -1;
};

class Listener {
 public:
  using AcceptFn = std::function<void(int fd, const sockaddr_storage& peer)>;
  Listener() = default;
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens on every address; fails if none could be bound.
  Status Bind(const ListenConfig& config);
  // Starts accepting on `loop`; each new non-blocking socket goes to `on_accept`.
  void Start(EventLoop& loop, AcceptFn on_accept);
  // Stops accepting and closes the sockets (graceful shutdown).
  void Close();
  // The port of the first socket (useful with -p 0).
  int bound_port() const { return bound_port_; }
  const std::vector<std::string>& descriptions() const { return descriptions_; }

 private:
  void Accept(int fd);
  void Pause();
  void Resume();

  EventLoop* loop_ = nullptr;
  std::vector<int> fds_;
  std::vector<EventLoop::Watch*> watches_;
  std::vector<std::string> descriptions_;
  std::unique_ptr<Timer> resume_;
  bool paused_ = false;
  AcceptFn on_accept_;
  int bound_port_ = 0;
  int64_t last_emfile_log_ = 0;
};

}  // namespace gearbox::server
