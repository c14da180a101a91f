// Process-wide logging facade with gearmand's level names (FATAL .. DEBUG).
// Thread-safe: any thread may log. The facade does no I/O itself: the server installs a backend
// (server/logging.h, spdlog sinks) once at start-up; with none installed, messages are dropped.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <optional>
#include <string>
#include <string_view>

namespace gearbox::log {

enum class Level : int { kFatal = 0, kAlert, kCritical, kError, kWarning, kNotice, kInfo, kDebug };

using Backend = void (*)(Level level, std::string_view message);
// Installs the backend; call before other threads start.
void SetBackend(Backend backend);
void SetLevel(Level level);
Level CurrentLevel();
std::string_view LevelName(Level level);
std::optional<Level> ParseLevel(std::string_view name);
void Write(Level level, std::string_view message);

namespace detail {
extern std::atomic<int> g_level;
}

inline bool Enabled(Level level) {
  return static_cast<int>(level) <= detail::g_level.load(std::memory_order_relaxed);
}

}  // namespace gearbox::log

#define GB_LOG(level, ...)                                                        \
  do {                                                                            \
    if (::gearbox::log::Enabled(::gearbox::log::Level::level))                    \
      ::gearbox::log::Write(::gearbox::log::Level::level, fmt::format(__VA_ARGS__)); \
  } while (0)
