// Server addresses and server-list parsing ("h1:4730,h2,[::1]:4731"), shared by Client and Worker.
// Pure functions and value types; safe from any thread (the environment is read with getenv).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gearbox/error.h"

namespace gearbox {

inline constexpr uint16_t kDefaultPort = 4730;

struct ServerAddress {
  std::string host;  // a name or an IP literal, without brackets
  uint16_t port = kDefaultPort;

  // "host:port", with brackets around IPv6 literals: "[::1]:4730". This string is also the
  // server's identity on the consistent-hash ring (docs/client-library.md, "Placement").
  std::string ToString() const;
  bool operator==(const ServerAddress&) const = default;
};

// Parses a comma-separated list as libgearman does, plus IPv6 brackets:
//   entry := host | host ":" port | "[" v6 "]" | "[" v6 "]" ":" port
// An empty host means "localhost"; a missing or zero port means 4730; spaces around entries
// are ignored, and empty entries are skipped. A bare IPv6 literal without brackets ("::1") is
// taken as a host with the default port. Errors: a port that is not a number in 0..65535, an
// unclosed bracket.
Expected<std::vector<ServerAddress>> ParseServerList(std::string_view list);

// Resolves what a Client or Worker connects to, libgearman's way: the entries of the
// GEARMAN_SERVERS environment variable (when read_environment is true) followed by the entries
// of `list`, duplicates removed; if that leaves nothing, localhost:4730.
Expected<std::vector<ServerAddress>> ResolveServerList(std::string_view list,
                                                       bool read_environment);

// A diagnostic hook: the library reports connection events (connected, lost, reconnecting,
// a server's ERROR that belongs to no call) through it. It is called on the thread that runs
// the library's loop (the caller of a Client method, or Worker::Run) and must not call back
// into the Client or Worker.
using LogFn = std::function<void(std::string_view message)>;

}  // namespace gearbox
