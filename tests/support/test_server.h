// Test support: start a real server binary (ours or Debian's gearmand 1.1.20) on a free
// loopback port, and talk raw bytes to it. Used by integration, interop and client tests.
// Each object belongs to the test thread that created it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/codec.h"

namespace gearbox::testing {

// A loopback TCP port that was free a moment ago.
int FreePort();

// Path of our gearmand (GEARBOX_GEARMAND env, else the build tree's binary).
std::string OurGearmand();
// Path of Debian's gearmand 1.1.20 (/usr/sbin/gearmand), or "" if it is not installed.
std::string ReferenceGearmand();

// Which server a parameterised test runs against.
enum class Impl { kOurs, kReference };
std::string ImplName(Impl impl);
std::string BinaryFor(Impl impl);

class ServerProcess {
 public:
  // Starts `binary -L 127.0.0.1 -p <free port> -l <logfile> <extra...>` and waits until the
  // server answers the text `version` command. Returns nullptr (with *error set) on failure.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary,
                                              const std::vector<std::string>& extra = {},
                                              std::string* error = nullptr);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;
  // Sends a signal.
  void Signal(int sig);
  // Waits for the process to exit; returns its wait status, or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Running();

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  bool exited_ = false;
};

// A blocking raw TCP client with timeouts, for byte-exact protocol tests.
class RawClient {
 public:
  static std::unique_ptr<RawClient> Connect(int port, std::string* error = nullptr);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Send(std::string_view bytes);
  // Reads until n bytes arrived, EOF or the timeout; returns what arrived.
  std::string ReadExactly(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until nothing arrives for `quiet`.
  std::string ReadAll(std::chrono::milliseconds quiet = std::chrono::milliseconds(200));
  // Reads one binary packet (header + body); nullopt on timeout/EOF/garbage.
  std::optional<std::string> ReadPacket(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads up to and including `terminator` (e.g. ".\n" or "\r\n").
  std::string ReadUntil(std::string_view terminator,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True if the server closed the connection within the timeout.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void ShutdownWrite();
  int fd() const { return fd_; }

 private:
  RawClient() = default;
  int fd_ = -1;
  std::string pending_;
};

// Convenience encoders for tests.
inline std::string Req(protocol::Command c, std::initializer_list<std::string_view> parts = {}) {
  return protocol::EncodePacket(protocol::Magic::kRequest, c, parts);
}
inline std::string Res(protocol::Command c, std::initializer_list<std::string_view> parts = {}) {
  return protocol::EncodePacket(protocol::Magic::kResponse, c, parts);
}

// Splits a response packet into (command, parts) for assertions.
struct Decoded {
  protocol::Command command;
  std::vector<std::string> parts;
};
std::optional<Decoded> DecodeResponse(std::string_view packet);

}  // namespace gearbox::testing
