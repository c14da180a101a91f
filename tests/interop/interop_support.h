// Interop tests: Debian's real Gearman software (libgearman's `gearman`/`gearadmin` CLIs, PHP's
// pecl-gearman, Perl's Gearman::Client/Worker) driven against our server and against Debian's
// gearmand 1.1.20 in the same test; each scenario must give the same observable result on both.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "integ_support.h"

namespace gearbox::testing::interop {

using namespace integ;

struct Target {
  std::string name;  // for messages
  Impl impl;
  int threads;  // ours: -t
};
// Our server with one loop and with I/O threads, then Debian's gearmand (if installed).
std::vector<Target> Targets();

// Path of a script in tests/interop/scripts.
std::string Script(const std::string& name);

// Tool availability (cached): skips the test when a piece of Debian software is missing.
bool HaveGearmanCli();
bool HavePhpGearman();
bool HavePerlGearman();

class InteropTest : public ::testing::Test {
 protected:
  // Runs `scenario` once per target, each on a fresh server started with `extra` flags plus
  // "--job-handle-prefix H:gb". Failures inside are annotated with the target's name.
  void OnEachServer(const std::function<void(const Target&, ServerProcess&)>& scenario,
                    const std::vector<std::string>& extra = {});

  // Runs a scenario that returns its observations, on every target, and checks that every
  // target observed `expected` (so ours and gearmand agree).
  void ExpectSameOnEachServer(const std::function<std::string(ServerProcess&)>& scenario,
                              const std::string& expected,
                              const std::vector<std::string>& extra = {});
};

// argv helpers. Debian's tools by absolute path, so our own gearman/gearadmin (tools/) on PATH
// never stand in for them.
std::vector<std::string> GearmanCmd(int port, std::vector<std::string> args);
std::vector<std::string> GearadminCmd(int port, std::vector<std::string> args);
RunResult RunTool(std::vector<std::string> argv, std::string stdin_data = {},
                  std::chrono::milliseconds timeout = 30s);
std::unique_ptr<Child> Background(std::vector<std::string> argv);

// Raw-protocol helpers to set up state deterministically.
std::string SubmitRaw(int port, Command cmd, std::string_view fn, std::string_view unique,
                      std::string_view data);
std::string AdminRawList(int port, std::string_view line);

}  // namespace gearbox::testing::interop
