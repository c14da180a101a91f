// Report: what one gearbox-load run measured and checked, printed as a table and as JSON.
// Built and read by the main thread after the load loops have stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.h"

namespace gearbox::load {

struct Metric {
  std::string key;    // JSON key, e.g. "drain_jobs_per_s"
  std::string label;  // table label, e.g. "drain rate"
  double value = 0;
  std::string unit;  // "jobs/s", "us", "bytes", "s", "" ...
};

struct Report {
  std::string scenario;
  std::string server;     // host:port
  std::string label;      // free text from --label (e.g. "gearbox" or "gearmand")
  std::string io_engine;  // the tool's I/O engine: "io_uring", "epoll" (pingpong: "blocking")
  std::vector<std::pair<std::string, std::string>> params;  // shown in order; JSON as strings
  std::vector<std::pair<std::string, int64_t>> int_params;  // JSON as numbers
  std::vector<Metric> metrics;
  std::vector<std::pair<std::string, uint64_t>> counts;  // correctness counters
  std::vector<std::string> notes;                        // informational lines
  std::vector<std::string> errors;                       // any entry makes the run fail

  void Param(std::string key, std::string value) {
    params.emplace_back(std::move(key), std::move(value));
  }
  void IntParam(std::string key, int64_t value) { int_params.emplace_back(std::move(key), value); }
  void Add(std::string key, std::string label_text, double value, std::string unit) {
    metrics.push_back({std::move(key), std::move(label_text), value, std::move(unit)});
  }
  void Count(std::string key, uint64_t value) { counts.emplace_back(std::move(key), value); }
  // Adds p50/p90/p99/p99.9/max/mean in microseconds under `prefix` ("latency" -> latency_p50_us).
  void AddLatency(const std::string& prefix, const std::string& label_text,
                  const LatencyHistogram& h);
  bool ok() const { return errors.empty(); }

  std::string Table() const;
  std::string Json() const;
};

// "1.5 KiB", "64 KiB", "100 B".
std::string HumanBytes(double bytes);
// Parses "100", "1K", "1KB", "1KiB", "64k", "2M" (powers of 1024). Returns false if malformed.
bool ParseSize(const std::string& text, uint64_t* out);

}  // namespace gearbox::load
