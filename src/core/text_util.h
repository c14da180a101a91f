// Small text helpers the job core's handlers share (parsing numbers, formatting admin rows).
// Pure functions; any thread.
#pragma once

#include <strings.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace gearbox::core {

inline bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Parses an unsigned decimal with no sign and no junk.
inline bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// atoi(): leading optional sign and digits, anything else stops; used for WORK_STATUS numbers.
inline uint32_t AtoU32(std::string_view s) {
  int64_t v = 0;
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
    ++i;
  bool neg = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < (int64_t{1} << 40)) {
    v = v * 10 + (s[i++] - '0');
  }
  if (neg) v = -v;
  return static_cast<uint32_t>(v);
}

inline std::string_view U64(uint64_t v, char* buf) {
  auto [p, ec] = std::to_chars(buf, buf + 24, v);
  (void)ec;
  return {buf, static_cast<size_t>(p - buf)};
}

// The `workers` listing must stay parseable: blanks and control bytes in ids become '_'.
inline std::string Printable(std::string_view id) {
  std::string s(id);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) c = '_';
  }
  return s;
}

}  // namespace gearbox::core
