#include "net.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "protocol/codec.h"

namespace gearbox::load {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

int MsUntil(SteadyClock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return ms.count() < 0 ? 0 : static_cast<int>(ms.count());
}

}  // namespace

Result<Endpoint> Resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    return Status::InvalidArgument("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  Endpoint ep;
  std::memcpy(&ep.addr, res->ai_addr, res->ai_addrlen);
  ep.len = res->ai_addrlen;
  ep.text = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + service;
  ::freeaddrinfo(res);
  return ep;
}

Result<std::vector<int>> ConnectMany(const Endpoint& ep, size_t count, size_t parallel,
                                     std::chrono::milliseconds timeout) {
  // A connection counts as open once the server answered an ECHO_REQ on it: connect() alone
  // completes before the server accepts, and a full accept queue then costs SYN retransmits
  // of a second or more. Waiting for the echo bounds the accept queue to `parallel`.
  static const std::string kEcho =
      protocol::EncodePacket(protocol::Magic::kRequest, protocol::Command::kEchoReq, {"c"});
  static const std::string kEchoRes =
      protocol::EncodePacket(protocol::Magic::kResponse, protocol::Command::kEchoRes, {"c"});
  struct Pending {
    bool connected = false;
    size_t got = 0;  // bytes of the ECHO_RES read so far
  };
  std::vector<int> done;
  done.reserve(count);
  std::vector<pollfd> polls;
  std::vector<Pending> state;
  auto fail = [&](const std::string& message) -> Result<std::vector<int>> {
    for (int fd : done)
      ::close(fd);
    for (auto& p : polls)
      ::close(p.fd);
    return Status::Unavailable(message);
  };
  auto deadline = SteadyClock::now() + timeout;
  size_t started = 0;
  if (parallel == 0) parallel = 1;
  while (done.size() < count) {
    while (started < count && polls.size() < parallel) {
      int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return fail(Errno("socket (connection " + std::to_string(started + 1) + ")"));
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ++started;
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0 &&
          errno != EINPROGRESS) {
        std::string m = Errno("connect to " + ep.text);
        ::close(fd);
        return fail(m);
      }
      polls.push_back({fd, POLLOUT, 0});
      state.push_back({});
    }
    int n = ::poll(polls.data(), polls.size(), std::min(MsUntil(deadline), 1000));
    if (n < 0 && errno != EINTR) return fail(Errno("poll"));
    if (n <= 0 && MsUntil(deadline) == 0) {
      return fail("timed out connecting to " + ep.text + " (" + std::to_string(done.size()) +
                  " of " + std::to_string(count) + " connections answered)");
    }
    for (size_t i = 0; i < polls.size();) {
      pollfd& p = polls[i];
      Pending& st = state[i];
      bool finished = false;
      if (p.revents != 0 && !st.connected) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          errno = err;
          return fail(Errno("connect to " + ep.text));
        }
        if (::send(p.fd, kEcho.data(), kEcho.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(kEcho.size())) {
          return fail(Errno("send ECHO_REQ to " + ep.text));
        }
        st.connected = true;
        p.events = POLLIN;
      } else if (p.revents != 0) {
        char buf[64];
        ssize_t r = ::recv(p.fd, buf, kEchoRes.size() - st.got, 0);
        if (r == 0) return fail("the server closed a new connection before answering ECHO_REQ");
        if (r < 0 && errno != EAGAIN && errno != EINTR) return fail(Errno("recv ECHO_RES"));
        if (r > 0) {
          if (kEchoRes.compare(st.got, static_cast<size_t>(r), buf, static_cast<size_t>(r)) != 0) {
            return fail("unexpected reply to ECHO_REQ on a new connection");
          }
          st.got += static_cast<size_t>(r);
          finished = st.got == kEchoRes.size();
        }
      }
      if (finished) {
        done.push_back(p.fd);
        polls[i] = polls.back();
        polls.pop_back();
        state[i] = state.back();
        state.pop_back();
      } else {
        p.revents = 0;
        ++i;
      }
    }
  }
  return done;
}

uint64_t RaiseFdLimit(uint64_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur >= wanted) return rl.rlim_cur;
  if (rl.rlim_max < wanted) {
    rlimit raised{wanted, wanted};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return wanted;  // root may raise the hard limit
  }
  rl.rlim_cur = std::min<rlim_t>(wanted, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// ---------------------------------------------------------------------------------------------

Result<AdminClient> AdminClient::Connect(const Endpoint& ep) {
  auto fds = ConnectMany(ep, 1, 1, std::chrono::seconds(5));
  if (!fds.ok()) return fds.status();
  int fd = fds.value()[0];
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{10, 0};  // an admin reply slower than this means the server is stuck
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return AdminClient(fd);
}

AdminClient::~AdminClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> AdminClient::ReadLine() {
  while (true) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return Status::IoError("admin connection closed by the server");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno("admin read"));
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> AdminClient::Line(const std::string& command) {
  std::string out = command + "\n";
  if (::send(fd_, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size())) {
    return Status::IoError(Errno("admin write"));
  }
  return ReadLine();
}

Result<std::vector<std::string>> AdminClient::List(const std::string& command) {
  auto first = Line(command);
  if (!first.ok()) return first.status();
  std::vector<std::string> lines;
  std::string line = first.value();
  while (line != ".") {
    if (line.rfind("ERR", 0) == 0) return Status::ProtocolError(command + ": " + line);
    lines.push_back(line);
    auto next = ReadLine();
    if (!next.ok()) return next.status();
    line = next.value();
  }
  return lines;
}

Result<int> ServerPid(const Endpoint& ep) {
  auto admin = AdminClient::Connect(ep);
  if (!admin.ok()) return admin.status();
  auto line = admin->Line("getpid");
  if (!line.ok()) return line.status();
  int pid = 0;
  if (std::sscanf(line.value().c_str(), "OK %d", &pid) != 1 || pid <= 0) {
    return Status::ProtocolError("unexpected getpid reply: " + line.value());
  }
  return pid;
}

Result<uint64_t> QueuedJobs(const Endpoint& ep, const std::string& function) {
  auto admin = AdminClient::Connect(ep);
  if (!admin.ok()) return admin.status();
  auto lines = admin->List("status");
  if (!lines.ok()) return lines.status();
  for (const auto& line : lines.value()) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos || line.compare(0, tab, function) != 0) continue;
    return std::strtoull(line.c_str() + tab + 1, nullptr, 10);
  }
  return uint64_t{0};
}

Result<uint64_t> ResidentBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return Status::NotFound("cannot read /proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return Status::NotFound("no VmRSS in /proc/" + std::to_string(pid) + "/status");
}

Result<uint64_t> ProcessCpuNs(int pid) {
  std::string base = "/proc/" + std::to_string(pid);
  uint64_t total = 0;
  bool any = false;
  if (DIR* d = ::opendir((base + "/task").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(base + "/task/" + e->d_name + "/schedstat");
      uint64_t ns = 0;
      if (in >> ns) {
        total += ns;
        any = true;
      }
    }
    ::closedir(d);
  }
  if (any) return total;
  std::ifstream in(base + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return Status::NotFound("cannot read " + base + "/stat");
  std::istringstream ss(text.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && ss >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  long hz = ::sysconf(_SC_CLK_TCK);
  return (utime + stime) * (1'000'000'000ull / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

uint64_t SelfCpuNs() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000ull +
           static_cast<uint64_t>(tv.tv_usec) * 1000ull;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

bool IsLoopback(const Endpoint& ep) {
  if (ep.addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ep.addr);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (ep.addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ep.addr);
    return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
  }
  return false;
}

}  // namespace gearbox::load
