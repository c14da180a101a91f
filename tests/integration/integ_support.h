// Helpers shared by the integration and interop suites: a fixture that starts a server in each
// shape under test (ours with one loop, ours with I/O threads + core thread, Debian's gearmand
// 1.1.20), byte-exact packet expectations with readable failure messages, admin helpers, and
// child processes with timeouts for command-line and interop tests.
// Everything here belongs to the test thread that created it.
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <csignal>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "test_server.h"

namespace gearbox::testing::integ {

using protocol::Command;
using namespace std::chrono_literals;

// Every server under test is started with this handle prefix, so handles are exact bytes.
inline constexpr std::string_view kPrefix = "H:gb";
// "H:gb:<n>".
std::string H(uint64_t n);

// A server under test: the implementation and, for ours, the threading shape.
struct Shape {
  Impl impl;
  int threads;  // ours: the -t value (1 = one loop, 4 = I/O threads + core); reference: unused
};
// gtest prints parameters with this (ctest names show "ours -t 4" instead of raw bytes).
void PrintTo(const Shape& shape, std::ostream* os);
std::vector<Shape> AllShapes();  // ours -t 1, ours -t 4, reference
std::vector<Shape> OurShapes();  // ours -t 1, ours -t 4
std::string ShapeName(const ::testing::TestParamInfo<Shape>& info);

// Renders bytes as a list of packets / text lines with escapes, for failure messages.
std::string Describe(std::string_view bytes);
// Escapes non-printable bytes (\0, \n, \xNN).
std::string Escape(std::string_view bytes);

// Reads one packet and compares it byte for byte with `expected`.
::testing::AssertionResult NextPacketIs(RawClient& c, std::string_view expected,
                                        std::chrono::milliseconds timeout = 10s);
// Nothing arrives within `quiet` (the connection may still be open).
::testing::AssertionResult Silent(RawClient& c, std::chrono::milliseconds quiet = 300ms);
// The server closed the connection; `got` receives whatever arrived before.
::testing::AssertionResult ClosedAfter(RawClient& c, std::string_view expected_before,
                                       std::chrono::milliseconds timeout = 10s);

#define EXPECT_PACKET(client, expected) EXPECT_TRUE(NextPacketIs(*(client), (expected)))
#define ASSERT_PACKET(client, expected) ASSERT_TRUE(NextPacketIs(*(client), (expected)))
#define EXPECT_SILENT(client) EXPECT_TRUE(Silent(*(client)))

// Request/response packet builders (aliases of Req/Res that read well in expectations).
inline std::string Q(Command c, std::initializer_list<std::string_view> parts = {}) {
  return Req(c, parts);
}
inline std::string R(Command c, std::initializer_list<std::string_view> parts = {}) {
  return Res(c, parts);
}
inline std::string Error(std::string_view code, std::string_view text) {
  return Res(Command::kError, {code, text});
}

// Reads a text list reply (lines, then ".\n").
std::string ReadList(RawClient& c, std::chrono::milliseconds timeout = 10s);
// Sends ECHO_REQ and waits for its ECHO_RES: everything sent before on this connection has
// been processed by the server. Fails the test if the echo does not come back.
void Sync(RawClient& c);
// Sends GRAB_JOB (or another grab) and returns the decoded reply.
std::optional<Decoded> Grab(RawClient& w, Command grab = Command::kGrabJob);
// Reads a packet and decodes it.
std::optional<Decoded> ReadDecoded(RawClient& c, std::chrono::milliseconds timeout = 10s);

// Sorts the lines of a list reply (keeping the final ".\n" last), for gearmand's hash order.
std::string SortLines(std::string_view list);
// Polls `probe` until it returns `expected` or the timeout passes; returns the last value.
std::string Eventually(const std::function<std::string()>& probe, std::string_view expected,
                       std::chrono::milliseconds timeout = 10s);

// Process memory of a running pid, from /proc (kB), or -1.
long ProcStatusKb(pid_t pid, std::string_view field);  // e.g. "VmRSS", "VmSize"

// Raises this process's RLIMIT_NOFILE soft limit to at least `n` (up to the hard limit).
bool RaiseNoFile(rlim_t n);

// ---------------------------------------------------------------------------------------------
// Fixture: one server of GetParam()'s shape per test.

class ServerTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override;
  void TearDown() override;

  bool ours() const { return GetParam().impl == Impl::kOurs; }
  bool reference() const { return GetParam().impl == Impl::kReference; }
  // Base arguments for this shape (handle prefix, -t).
  std::vector<std::string> ShapeArgs() const;
  // (Re)starts the server with ShapeArgs() + extra. Fails the test on error.
  void StartServer(const std::vector<std::string>& extra = {});
  // Extra flags every test of a suite wants; override in a derived fixture.
  virtual std::vector<std::string> DefaultExtraArgs() const { return {}; }

  std::unique_ptr<RawClient> Connect();
  // Sends an admin line (terminator added) and reads a list reply.
  std::string AdminList(std::string_view line);
  // Sends an admin line (terminator added) and reads one reply line (up to "\n").
  std::string AdminLine(std::string_view line);
  // The server still answers `version` on a fresh connection.
  ::testing::AssertionResult ServerAnswers();

  std::unique_ptr<ServerProcess> server_;
};

// ---------------------------------------------------------------------------------------------
// Child processes (command-line and interop tests).

struct RunResult {
  bool started = false;
  bool timed_out = false;
  int status = -1;  // wait status
  std::string out;
  std::string err;
  bool exited_ok() const {
    return started && !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

struct ProcessSpec {
  std::vector<std::string> argv;
  std::string stdin_data;              // written to the child's stdin (then EOF)
  std::vector<std::string> env;        // "NAME=value" added to (or replacing in) the environment
  std::vector<std::string> unset_env;  // names removed from the environment
  std::string cwd;
};

// Runs to completion (killing the process group at the timeout) and captures stdout/stderr.
RunResult RunProcess(const ProcessSpec& spec, std::chrono::milliseconds timeout = 30s);

// A background child in its own process group (killed with the group on destruction).
class Child {
 public:
  static std::unique_ptr<Child> Start(const ProcessSpec& spec);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  bool Running();
  // Waits for exit; nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Kill(int sig = SIGTERM);
  std::string Out() const;
  std::string Err() const;

 private:
  Child() = default;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string out_path_, err_path_, in_path_;
};

// Waits until `port` on 127.0.0.1 answers `version`; returns the reply line or "".
std::string WaitForVersion(int port, std::chrono::milliseconds timeout = 10s,
                           const std::string& host = "127.0.0.1");
// Connects to host:port (IPv4 or IPv6 literal); -1 on failure.
int ConnectTo(const std::string& host, int port);
// A temporary file path (created empty) that is removed by the returned guard's destructor.
class TempFile {
 public:
  explicit TempFile(std::string_view contents = {}, std::string_view suffix = {});
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  std::string Read() const;

 private:
  std::string path_;
};
// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
std::string ReadFile(const std::string& path);
bool FileExists(const std::string& path);

}  // namespace gearbox::testing::integ
