#include "report.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "gearbox_version.h"

namespace gearbox::load {

void Report::AddLatency(const std::string& prefix, const std::string& label_text,
                        const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  Add(prefix + "_p50_us", label_text + " p50", us(h.Quantile(0.50)), "us");
  Add(prefix + "_p90_us", label_text + " p90", us(h.Quantile(0.90)), "us");
  Add(prefix + "_p99_us", label_text + " p99", us(h.Quantile(0.99)), "us");
  Add(prefix + "_p999_us", label_text + " p99.9", us(h.Quantile(0.999)), "us");
  Add(prefix + "_max_us", label_text + " max", us(h.max_ns()), "us");
  Add(prefix + "_mean_us", label_text + " mean", h.mean_ns() / 1000.0, "us");
  Count(prefix + "_samples", h.count());
}

namespace {

// 1234567.8 -> "1,234,568"; small values keep some decimals.
std::string Pretty(double v) {
  if (std::isnan(v) || std::isinf(v)) return "-";
  double a = std::fabs(v);
  if (a < 10) return fmt::format("{:.2f}", v);
  if (a < 1000) return fmt::format("{:.1f}", v);
  auto n = static_cast<long long>(std::llround(a));
  std::string digits = std::to_string(n);
  std::string out;
  int c = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (c > 0 && c % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++c;
  }
  if (v < 0) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

}  // namespace

std::string Report::Table() const {
  std::string out;
  out += fmt::format("gearbox-load {}  server {}{}{}\n", scenario, server,
                     io_engine.empty() ? "" : "  engine " + io_engine,
                     label.empty() ? "" : "  [" + label + "]");
  size_t width = 10;
  for (const auto& [k, v] : params)
    width = std::max(width, k.size());
  for (const auto& m : metrics)
    width = std::max(width, m.label.size());
  for (const auto& [k, v] : params)
    out += fmt::format("  {:<{}}  {}\n", k, width, v);
  if (!metrics.empty()) out += "  " + std::string(width + 24, '-') + "\n";
  for (const auto& m : metrics) {
    std::string value = m.unit == "bytes" ? HumanBytes(m.value) : Pretty(m.value);
    std::string unit = m.unit == "bytes" ? "" : m.unit;
    out += fmt::format("  {:<{}}  {:>14} {}\n", m.label, width, value, unit);
  }
  for (const auto& n : notes)
    out += "  note: " + n + "\n";
  std::string counts_text;
  for (const auto& [k, v] : counts) {
    if (v == 0 || k.find("latency") != std::string::npos) continue;
    counts_text += fmt::format("{}{}={}", counts_text.empty() ? "" : " ", k, v);
  }
  if (!counts_text.empty()) out += "  counts: " + counts_text + "\n";
  if (errors.empty()) {
    out += "  check: OK\n";
  } else {
    for (const auto& e : errors)
      out += "  check: FAILED: " + e + "\n";
  }
  return out;
}

std::string Report::Json() const {
  nlohmann::ordered_json j;
  j["tool"] = "gearbox-load";
  j["version"] = GEARBOX_VERSION;
  j["scenario"] = scenario;
  j["server"] = server;
  j["label"] = label;
  j["io_engine"] = io_engine;
  nlohmann::ordered_json p = nlohmann::ordered_json::object();
  for (const auto& [k, v] : int_params)
    p[k] = v;
  for (const auto& [k, v] : params) {
    if (!p.contains(k)) p[k] = v;
  }
  j["params"] = p;
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  for (const auto& x : metrics)
    m[x.key] = std::isfinite(x.value) ? x.value : 0.0;
  j["metrics"] = m;
  nlohmann::ordered_json c = nlohmann::ordered_json::object();
  for (const auto& [k, v] : counts)
    c[k] = v;
  j["counts"] = c;
  j["notes"] = notes;
  j["ok"] = errors.empty();
  j["errors"] = errors;
  return j.dump(2) + "\n";
}

std::string HumanBytes(double bytes) {
  double a = std::fabs(bytes);
  if (a < 1024) return fmt::format("{:.0f} B", bytes);
  if (a < 1024.0 * 1024) return fmt::format("{:.1f} KiB", bytes / 1024);
  if (a < 1024.0 * 1024 * 1024) return fmt::format("{:.1f} MiB", bytes / 1024 / 1024);
  return fmt::format("{:.2f} GiB", bytes / 1024 / 1024 / 1024);
}

bool ParseSize(const std::string& text, uint64_t* out) {
  size_t i = 0;
  uint64_t v = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  std::string suffix;
  for (; i < text.size(); ++i)
    suffix.push_back(static_cast<char>(std::tolower(text[i])));
  if (suffix.empty() || suffix == "b") {
    *out = v;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    *out = v << 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    *out = v << 20;
  } else {
    return false;
  }
  return true;
}

}  // namespace gearbox::load
