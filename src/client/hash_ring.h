// HashRing: consistent hashing of unique keys over a server list (docs/client-library.md,
// "Placement"). Immutable after construction; safe to read from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gearbox::client {

class HashRing {
 public:
  static constexpr int kPointsPerServer = 160;

  // `names` are the servers' identities ("host:port"); their order does not matter.
  explicit HashRing(const std::vector<std::string>& names,
                    int points_per_server = kPointsPerServer);

  // Every server index exactly once, in the order a key visits them: the owner first, then the
  // next distinct servers clockwise (the failover order).
  std::vector<size_t> Order(std::string_view key) const;
  // The owner of a key (the first of Order()). Precondition: at least one server.
  size_t Owner(std::string_view key) const;
  size_t servers() const { return servers_; }

 private:
  size_t servers_;
  std::vector<std::pair<uint64_t, size_t>> points_;  // sorted by (hash, server name)
};

}  // namespace gearbox::client
