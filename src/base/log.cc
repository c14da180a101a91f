#include "base/log.h"

#include <strings.h>

#include <array>

namespace gearbox::log {
namespace detail {
std::atomic<int> g_level{static_cast<int>(Level::kError)};
}

namespace {
constexpr std::array<std::string_view, 8> kNames = {"FATAL",   "ALERT",  "CRITICAL", "ERROR",
                                                     "WARNING", "NOTICE", "INFO",     "DEBUG"};
std::atomic<Backend> g_backend{nullptr};
}  // namespace

void SetBackend(Backend backend) { g_backend.store(backend); }
void SetLevel(Level level) { detail::g_level.store(static_cast<int>(level)); }
Level CurrentLevel() { return static_cast<Level>(detail::g_level.load()); }

std::string_view LevelName(Level level) { return kNames[static_cast<size_t>(level)]; }

std::optional<Level> ParseLevel(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (name.size() == kNames[i].size() &&
        ::strncasecmp(name.data(), kNames[i].data(), name.size()) == 0) {
      return static_cast<Level>(i);
    }
  }
  return std::nullopt;
}

void Write(Level level, std::string_view message) {
  Backend b = g_backend.load(std::memory_order_acquire);
  if (b != nullptr) b(level, message);
}

}  // namespace gearbox::log
