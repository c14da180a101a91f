// gearbox-load's scenarios: each one runs against a server (or, for pingpong, against a forked
// echo process) and returns a Report. Called from main on the main thread; a scenario may start
// loop threads of its own and joins them before it returns.
#pragma once

#include <cstdint>
#include <string>

#include "report.h"

namespace gearbox::load {

struct Options {
  std::string scenario;
  std::string host = "127.0.0.1";
  int port = 4730;
  uint64_t jobs = 0;         // 0: the scenario's default
  uint32_t clients = 4;      // client connections
  uint32_t window = 0;       // jobs in flight per client connection; 0: the scenario's default
  uint32_t workers = 4;      // worker connections
  uint32_t grab_window = 4;  // GRAB_JOBs a worker keeps outstanding
  uint64_t payload = 0;      // bytes of data per job
  uint64_t result = 0;       // bytes of WORK_COMPLETE data per job
  std::string function;      // default: gearbox-load.<pid>
  bool unique = false;
  std::string priority = "normal";
  int64_t warmup = -1;          // roundtrip: completions left out of the latency figures; -1: auto
  uint32_t threads = 1;         // load loops (threads)
  uint64_t connections = 1000;  // connections: idle connections to hold
  uint32_t connect_parallel = 16;  // connections awaiting their first ECHO_RES
  bool with_roundtrip = false;     // connections: measure a round trip while they are held
  int server_pid = 0;              // memory: the server's pid (default: ask with `getpid`)
  int settle_ms = 500;             // memory: wait before reading RSS
  uint64_t drain_jobs = 0;         // memory: drain only this many (0: all)
  uint32_t repeat = 1;             // drain: fill+drain cycles (median reported)
  bool cleanup = true;             // submit-bg: drain the jobs afterwards (untimed)
  double timeout_s = 30;           // fail when no progress for this long
  bool progress = false;
  std::string label;
  uint64_t message_size = 32;      // pingpong
  std::string io_engine = "auto";  // epoll, io_uring, or auto (io_uring when the kernel allows)
  uint64_t gap_us = 0;  // foreground clients: pause after each result before the next submit
};

inline constexpr const char* kScenarios[] = {"submit-bg", "drain",       "roundtrip",
                                             "memory",    "connections", "pingpong"};

Report RunScenario(const Options& options);

}  // namespace gearbox::load
