#include "client/hash_ring.h"

#include <algorithm>

#include "client/digest.h"

namespace gearbox::client {

HashRing::HashRing(const std::vector<std::string>& names, int points_per_server)
    : servers_(names.size()) {
  points_.reserve(names.size() * static_cast<size_t>(points_per_server));
  for (size_t s = 0; s < names.size(); ++s) {
    for (int i = 0; i < points_per_server; ++i) {
      points_.emplace_back(RingHash(names[s] + "-" + std::to_string(i)), s);
    }
  }
  // Ties (practically impossible) are broken by name so every client builds the same ring
  // whatever order its list is in.
  std::sort(points_.begin(), points_.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return names[a.second] < names[b.second];
  });
}

std::vector<size_t> HashRing::Order(std::string_view key) const {
  std::vector<size_t> order;
  if (points_.empty()) return order;
  uint64_t h = RingHash(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const auto& p, uint64_t v) { return p.first < v; });
  size_t start = static_cast<size_t>(it - points_.begin());
  std::vector<bool> seen(servers_, false);
  for (size_t i = 0; i < points_.size() && order.size() < servers_; ++i) {
    size_t s = points_[(start + i) % points_.size()].second;
    if (!seen[s]) {
      seen[s] = true;
      order.push_back(s);
    }
  }
  return order;
}

size_t HashRing::Owner(std::string_view key) const {
  uint64_t h = RingHash(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const auto& p, uint64_t v) { return p.first < v; });
  if (it == points_.end()) it = points_.begin();
  return it->second;
}

}  // namespace gearbox::client
