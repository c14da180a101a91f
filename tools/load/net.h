// Socket helpers for gearbox-load: resolving the server, opening many connections at once,
// a blocking text-admin client, and reading a local process's resident memory.
// Plain functions and a small value type; call them from the main thread only.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace gearbox::load {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "host:port"
};

Result<Endpoint> Resolve(const std::string& host, int port);

// Opens `count` non-blocking TCP connections (TCP_NODELAY), each confirmed by an ECHO_REQ the
// server answered, with at most `parallel` in flight. All of them or an error; on error nothing
// is left open.
Result<std::vector<int>> ConnectMany(const Endpoint& ep, size_t count, size_t parallel,
                                     std::chrono::milliseconds timeout);

// Raises RLIMIT_NOFILE so that at least `wanted` descriptors can be open. Returns the new soft
// limit (which may be lower than wanted when the hard limit cannot be raised).
uint64_t RaiseFdLimit(uint64_t wanted);

// A blocking connection for text admin commands (`getpid`, `status`).
class AdminClient {
 public:
  static Result<AdminClient> Connect(const Endpoint& ep);
  AdminClient(AdminClient&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  AdminClient& operator=(AdminClient&&) = delete;
  AdminClient(const AdminClient&) = delete;
  ~AdminClient();

  // Sends `command` and returns the first reply line (without the line end).
  Result<std::string> Line(const std::string& command);
  // Sends `command` and returns the lines of a list reply, up to the "." terminator.
  Result<std::vector<std::string>> List(const std::string& command);

 private:
  explicit AdminClient(int fd) : fd_(fd) {}
  Result<std::string> ReadLine();
  int fd_ = -1;
  std::string pending_;
};

// The server's pid from the `getpid` admin command.
Result<int> ServerPid(const Endpoint& ep);

// The total job count (queued + running) the `status` admin command shows for `function`;
// 0 when the function is not listed.
Result<uint64_t> QueuedJobs(const Endpoint& ep, const std::string& function);

// VmRSS of a local process in bytes, from /proc/<pid>/status.
Result<uint64_t> ResidentBytes(int pid);

// CPU time a local process has used so far, all threads, in nanoseconds (the sum of
// /proc/<pid>/task/*/schedstat; /proc/<pid>/stat's utime+stime where schedstat is missing).
Result<uint64_t> ProcessCpuNs(int pid);

// CPU time this process has used so far (user + system, all threads), in nanoseconds.
uint64_t SelfCpuNs();

// True if the endpoint is a loopback address (the server runs on this host).
bool IsLoopback(const Endpoint& ep);

}  // namespace gearbox::load
