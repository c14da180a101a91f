#include "gearbox/servers.h"

#include <algorithm>
#include <cstdlib>

namespace gearbox {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

Expected<uint16_t> ParsePort(std::string_view entry, std::string_view port) {
  if (port.empty()) return kDefaultPort;
  uint32_t v = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || v > 65535) {
      return Error(Errc::kInvalidArgument, "invalid port '" + std::string(port) +
                                               "' in server entry '" + std::string(entry) +
                                               "': expected a number from 1 to 65535");
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) {
    return Error(Errc::kInvalidArgument, "invalid port '" + std::string(port) +
                                             "' in server entry '" + std::string(entry) +
                                             "': expected a number from 1 to 65535");
  }
  return v == 0 ? kDefaultPort : static_cast<uint16_t>(v);
}

Expected<ServerAddress> ParseEntry(std::string_view entry) {
  ServerAddress a;
  std::string_view host;
  std::string_view port;
  if (!entry.empty() && entry.front() == '[') {
    size_t close = entry.find(']');
    if (close == std::string_view::npos) {
      return Error(Errc::kInvalidArgument,
                   "unclosed '[' in server entry '" + std::string(entry) + "'");
    }
    host = entry.substr(1, close - 1);
    std::string_view rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return Error(Errc::kInvalidArgument,
                     "unexpected text after ']' in server entry '" + std::string(entry) + "'");
      }
      port = rest.substr(1);
    }
  } else if (std::count(entry.begin(), entry.end(), ':') > 1) {
    host = entry;  // a bare IPv6 literal
  } else {
    size_t colon = entry.find(':');
    host = entry.substr(0, colon);
    if (colon != std::string_view::npos) port = entry.substr(colon + 1);
  }
  auto p = ParsePort(entry, port);
  if (!p.ok()) return p.error();
  a.host = host.empty() ? "localhost" : std::string(host);
  a.port = *p;
  return a;
}

}  // namespace

std::string ServerAddress::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Expected<std::vector<ServerAddress>> ParseServerList(std::string_view list) {
  std::vector<ServerAddress> out;
  while (true) {
    size_t comma = list.find(',');
    std::string_view entry = Trim(list.substr(0, comma));
    if (!entry.empty()) {
      auto a = ParseEntry(entry);
      if (!a.ok()) return a.error();
      out.push_back(std::move(*a));
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

Expected<std::vector<ServerAddress>> ResolveServerList(std::string_view list,
                                                       bool read_environment) {
  std::vector<ServerAddress> all;
  if (read_environment) {
    if (const char* env = std::getenv("GEARMAN_SERVERS"); env != nullptr) {
      auto e = ParseServerList(env);
      if (!e.ok()) {
        return Error(Errc::kInvalidArgument, "GEARMAN_SERVERS is invalid: " + e.error().message());
      }
      all = std::move(*e);
    }
  }
  auto l = ParseServerList(list);
  if (!l.ok()) return l.error();
  for (auto& a : *l)
    all.push_back(std::move(a));
  std::vector<ServerAddress> unique;
  for (auto& a : all) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  if (unique.empty()) unique.push_back(ServerAddress{"localhost", kDefaultPort});
  return unique;
}

}  // namespace gearbox
