// Batch records: the messages the I/O threads and the core thread exchange (-t 2 and up).
// A batch is one std::string of records [kind u8][session u32][length u32][payload]; one batch
// carries everything one thread produced for another in one loop turn. Value type.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gearbox::server {

enum class RecordKind : uint8_t {
  kOpen,      // I/O -> core: payload = fd u32, loopback u8, peer address
  kItems,     // I/O -> core: a run of complete items
  kFatal,     // I/O -> core: payload = DecodeError u8
  kClosed,    // I/O -> core: no more input from the session
  kData,      // core -> I/O: reply bytes
  kReleased,  // core -> I/O: the core has forgotten the session
};

inline constexpr size_t kRecordHeader = 9;

inline void PutRecordHeader(char* p, RecordKind kind, uint32_t sid, uint32_t len) {
  p[0] = static_cast<char>(kind);
  std::memcpy(p + 1, &sid, 4);
  std::memcpy(p + 5, &len, 4);
}

inline void PutRecord(std::string& b, RecordKind kind, uint32_t sid, std::string_view payload) {
  size_t at = b.size();
  b.resize(at + kRecordHeader + payload.size());
  PutRecordHeader(b.data() + at, kind, sid, static_cast<uint32_t>(payload.size()));
  if (!payload.empty()) std::memcpy(b.data() + at + kRecordHeader, payload.data(), payload.size());
}

template <typename F>
void ForEachRecord(std::string_view b, F&& f) {
  size_t pos = 0;
  while (pos + kRecordHeader <= b.size()) {
    auto kind = static_cast<RecordKind>(b[pos]);
    uint32_t sid;
    uint32_t len;
    std::memcpy(&sid, b.data() + pos + 1, 4);
    std::memcpy(&len, b.data() + pos + 5, 4);
    f(kind, sid, b.substr(pos + kRecordHeader, len));
    pos += kRecordHeader + len;
  }
}

}  // namespace gearbox::server
