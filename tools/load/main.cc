// gearbox-load: a load generator for Gearman job servers (ours or gearmand). It drives many
// client and worker connections from one event loop per thread (io_uring, or epoll where
// io_uring is not usable), checks that every job is accounted for, and prints a table (and
// JSON) of what it measured. See docs/performance.md.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "report.h"
#include "scenarios.h"

namespace {

constexpr const char* kDescription = R"(gearbox-load: saturating load for a Gearman job server.

Scenarios:
  submit-bg    background submits (SUBMIT_JOB_BG), a window in flight per client; submits/s
  drain        fill the queue with --jobs background jobs, then --workers drain it; jobs/s
  roundtrip    foreground jobs, --clients x --window in flight, --workers; jobs/s and latency
               (-c 1 -w 1 -k 1 -g 1 --gap-us 2000: the unloaded single round trip)
  memory       the server's RSS per queued job, and after the queue drains (server on this host)
  connections  hold --connections idle connections, check each answers; --with-roundtrip
               measures a round trip while they are held
  echo         ECHO_REQ -> ECHO_RES, --clients x --window (default 1) in flight; echoes/s: the
               cheapest request and reply through the server, no job state (the floor)
  pingpong     loopback TCP ping-pong with a forked echo process: the RTT baseline

Every run checks that submitted == created == completed and that no ERROR arrived; the exit
status is 0 only if all checks passed (1: a check failed, 2: bad usage).)";

bool SizeOption(const std::string& name, const std::string& text, uint64_t* out) {
  if (text.empty()) return true;
  if (gearbox::load::ParseSize(text, out)) return true;
  std::fprintf(stderr, "gearbox-load: --%s: cannot parse size '%s' (examples: 0, 100, 1K, 64KB)\n",
               name.c_str(), text.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  gearbox::load::Options o;
  std::string payload, result, json_path;
  bool progress = false;
  bool no_cleanup = false;

  CLI::App app{kDescription, "gearbox-load"};
  app.set_help_flag("--help", "Print this help and exit");
  app.get_formatter()->column_width(34);
  app.add_option("scenario", o.scenario, "What to run (see above)")
      ->required()
      ->check(CLI::IsMember(
          {"submit-bg", "drain", "roundtrip", "memory", "connections", "echo", "pingpong"}));
  app.add_option("-h,--host", o.host, "Server host")->capture_default_str();
  app.add_option("-p,--port", o.port, "Server port")->capture_default_str();
  app.add_option("-n,--jobs", o.jobs,
                 "Jobs (pingpong: messages); default 100000, connections 20000, pingpong 20000");
  app.add_option("-c,--clients", o.clients, "Client connections")->capture_default_str();
  app.add_option(
      "-w,--window", o.window,
      "Jobs in flight per client (default: 64 for background, 16 for foreground, 1 for echo)");
  app.add_option("-k,--workers", o.workers, "Worker connections")->capture_default_str();
  app.add_option("-g,--grab-window", o.grab_window, "GRAB_JOBs each worker keeps outstanding")
      ->capture_default_str();
  app.add_option("--payload", payload, "Bytes of data per job: 0, 100, 1K, 64K ...");
  app.add_option("--result-size", result, "Bytes of WORK_COMPLETE data per job");
  app.add_option("-f,--function", o.function, "Function name (default gearbox-load.<pid>)");
  app.add_flag("--unique", o.unique, "Give every job its own unique key");
  app.add_option("--priority", o.priority, "normal, high or low")
      ->check(CLI::IsMember({"normal", "high", "low"}))
      ->capture_default_str();
  app.add_option("--warmup", o.warmup,
                 "Completions left out of latency figures (default: jobs/10, at most 10000)");
  app.add_option("-t,--threads", o.threads, "Load threads, each with its own event loop")
      ->capture_default_str();
  app.add_option("--io-engine", o.io_engine,
                 "epoll, io_uring, or auto (io_uring when the kernel allows it)")
      ->check(CLI::IsMember({"auto", "epoll", "io_uring"}))
      ->capture_default_str();
  app.add_option("--gap-us", o.gap_us,
                 "Foreground clients (pingpong: the sender): pause at least this long after "
                 "each result before submitting again (unloaded round trip: the worker is "
                 "asleep again)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{10'000'000}))
      ->capture_default_str();
  app.add_option("--connections", o.connections, "connections: idle connections to hold")
      ->capture_default_str();
  app.add_option("--connect-parallel", o.connect_parallel, "Connects in flight at once")
      ->capture_default_str();
  app.add_flag("--with-roundtrip", o.with_roundtrip,
               "connections: run a round-trip measurement while the connections are held");
  app.add_option("--server-pid", o.server_pid,
                 "memory: the server's pid (default: ask it with the `getpid` admin command)");
  app.add_option("--settle-ms", o.settle_ms, "memory: wait before each RSS reading")
      ->capture_default_str();
  app.add_option("--drain-jobs", o.drain_jobs,
                 "memory: drain only this many jobs (the rate with a deep queue); default all");
  app.add_option("--repeat", o.repeat,
                 "drain: fill+drain cycles, echo: runs; the median is reported")
      ->capture_default_str();
  app.add_flag("--no-cleanup", no_cleanup, "submit-bg: leave the jobs queued (default: drain)");
  app.add_option("--timeout", o.timeout_s, "Fail when no progress for this many seconds")
      ->capture_default_str();
  app.add_option("--message-size", o.message_size, "pingpong: bytes per message")
      ->capture_default_str();
  app.add_option("--json", json_path, "Also write the report as JSON to this file (- = stdout)");
  app.add_option("--label", o.label, "Free text stored in the report (e.g. the server's name)");
  app.add_flag("--progress", progress, "Progress line on stderr (default: when it is a tty)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (!SizeOption("payload", payload, &o.payload) ||
      !SizeOption("result-size", result, &o.result)) {
    return 2;
  }
  if (o.clients == 0 || o.workers == 0 || o.threads == 0 || o.connections == 0) {
    std::fprintf(stderr,
                 "gearbox-load: --clients, --workers, --threads and --connections must be > 0\n");
    return 2;
  }
  o.cleanup = !no_cleanup;
  o.progress = progress || ::isatty(STDERR_FILENO) == 1;

  gearbox::load::Report report = gearbox::load::RunScenario(o);

  bool json_stdout = json_path == "-";
  std::fputs(report.Table().c_str(), json_stdout ? stderr : stdout);
  std::fflush(json_stdout ? stderr : stdout);
  if (json_stdout) {
    std::fputs(report.Json().c_str(), stdout);
  } else if (!json_path.empty()) {
    std::ofstream out(json_path, std::ios::trunc);
    out << report.Json();
    if (!out) {
      std::fprintf(stderr, "gearbox-load: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return report.ok() ? 0 : 1;
}
