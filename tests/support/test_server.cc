#include "test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef GEARBOX_TEST_GEARMAND
#define GEARBOX_TEST_GEARMAND ""
#endif

namespace gearbox::testing {

using Clock = std::chrono::steady_clock;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::string OurGearmand() {
  if (const char* e = std::getenv("GEARBOX_GEARMAND"); e != nullptr && *e != '\0') return e;
  return GEARBOX_TEST_GEARMAND;
}

std::string ReferenceGearmand() {
  if (const char* e = std::getenv("GEARBOX_REFERENCE_GEARMAND"); e != nullptr) return e;
  return ::access("/usr/sbin/gearmand", X_OK) == 0 ? "/usr/sbin/gearmand" : "";
}

std::string ImplName(Impl impl) { return impl == Impl::kOurs ? "Ours" : "Reference"; }
std::string BinaryFor(Impl impl) {
  return impl == Impl::kOurs ? OurGearmand() : ReferenceGearmand();
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary,
                                                    const std::vector<std::string>& extra,
                                                    std::string* error) {
  std::string err;
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<ServerProcess> p(new ServerProcess());
    p->port_ = FreePort();
    char tmpl[] = "/tmp/gearbox-test-log-XXXXXX";
    int lfd = ::mkstemp(tmpl);
    if (lfd >= 0) ::close(lfd);
    p->log_path_ = tmpl;
    std::vector<std::string> args = {binary, "-L", "127.0.0.1", "-p", std::to_string(p->port_),
                                     "-l", p->log_path_};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::execv(binary.c_str(), argv.data());
      std::_Exit(127);
    }
    p->pid_ = pid;
    // Ready when the server answers `version`.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        p->exited_ = true;
        err = "server exited during start-up (status " + std::to_string(status) + "): " +
              p->ReadLog();
        break;
      }
      if (auto c = RawClient::Connect(p->port_)) {
        c->Send("version\n");
        std::string line = c->ReadUntil("\n", std::chrono::milliseconds(500));
        if (line.rfind("OK ", 0) == 0) return p;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (err.empty()) err = "server did not answer `version` within 10 s";
  }
  if (error != nullptr) *error = err;
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!WaitExit(std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      WaitExit(std::chrono::seconds(5));
    }
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

std::string ServerProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ServerProcess::Signal(int sig) {
  if (!exited_) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return status;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool ServerProcess::Running() {
  if (exited_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------

std::unique_ptr<RawClient> RawClient::Connect(int port, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    if (error != nullptr) *error = std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::unique_ptr<RawClient> c(new RawClient());
  c->fd_ = fd;
  return c;
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

namespace {
// Reads whatever arrives within `ms` into out; returns false on EOF/error.
bool ReadSome(int fd, std::string& out, int ms, bool* eof) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, ms);
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  if (n <= 0) {
    *eof = true;
    return false;
  }
  out.append(buf, static_cast<size_t>(n));
  return true;
}
int MsLeft(Clock::time_point deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return d < 0 ? 0 : static_cast<int>(d);
}
}  // namespace

std::string RawClient::ReadExactly(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (pending_.size() < n && !eof && MsLeft(deadline) > 0) {
    ReadSome(fd_, pending_, MsLeft(deadline), &eof);
  }
  std::string out = pending_.substr(0, std::min(n, pending_.size()));
  pending_.erase(0, out.size());
  return out;
}

std::string RawClient::ReadAll(std::chrono::milliseconds quiet) {
  bool eof = false;
  while (!eof && ReadSome(fd_, pending_, static_cast<int>(quiet.count()), &eof)) {
  }
  std::string out;
  out.swap(pending_);
  return out;
}

std::optional<std::string> RawClient::ReadPacket(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string head = ReadExactly(12, timeout);
  if (head.size() < 12) {
    pending_.insert(0, head);
    return std::nullopt;
  }
  uint32_t size = (uint32_t(uint8_t(head[8])) << 24) | (uint32_t(uint8_t(head[9])) << 16) |
                  (uint32_t(uint8_t(head[10])) << 8) | uint32_t(uint8_t(head[11]));
  std::string body = ReadExactly(size, std::chrono::milliseconds(MsLeft(deadline) + 1000));
  if (body.size() < size) {
    pending_.insert(0, head + body);
    return std::nullopt;
  }
  return head + body;
}

std::string RawClient::ReadUntil(std::string_view terminator, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (true) {
    size_t pos = pending_.find(terminator);
    if (pos != std::string::npos) {
      std::string out = pending_.substr(0, pos + terminator.size());
      pending_.erase(0, out.size());
      return out;
    }
    if (eof || MsLeft(deadline) == 0) break;
    ReadSome(fd_, pending_, MsLeft(deadline), &eof);
  }
  std::string out;
  out.swap(pending_);
  return out;
}

bool RawClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  bool eof = false;
  while (!eof && MsLeft(deadline) > 0) ReadSome(fd_, pending_, MsLeft(deadline), &eof);
  return eof;
}

void RawClient::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

std::optional<Decoded> DecodeResponse(std::string_view packet) {
  protocol::Item item;
  protocol::Limits limits;
  auto r = protocol::Decode(packet, limits, &item);
  if (r.status != protocol::DecodeResult::Status::kItem ||
      item.kind != protocol::Item::Kind::kPacket) {
    return std::nullopt;
  }
  Decoded d;
  d.command = item.frame.command;
  for (size_t i = 0; i < item.frame.nparts; ++i) d.parts.emplace_back(item.frame.parts[i]);
  return d;
}

}  // namespace gearbox::testing
