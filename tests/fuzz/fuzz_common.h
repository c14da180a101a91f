// Helpers shared by the fuzz targets: a reader that turns fuzz input into choices, and a
// check macro that aborts (so libFuzzer and the plain corpus driver both report it).
// Single-threaded; one instance per input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/codec.h"
#include "protocol/command.h"

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace gearbox::fuzz {

// Consumes fuzz input front to back; returns zeros once the input is exhausted.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  size_t left() const { return n_; }
  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint32_t U16() { return static_cast<uint32_t>(Byte()) << 8 | Byte(); }
  // Up to max bytes, as they come.
  std::string_view Bytes(size_t max) {
    size_t k = max < n_ ? max : n_;
    std::string_view v(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return v;
  }
  std::string_view Rest() { return Bytes(n_); }

 private:
  const uint8_t* p_;
  size_t n_;
};

// A small deterministic PRNG (splitmix64) for split points derived from the input.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }

 private:
  uint64_t s_;
};

// Re-encodes a decoded frame: the parts joined by NUL under a fresh header.
inline std::string EncodeFrame(const protocol::Frame& f) {
  const auto& p = f.parts;
  switch (f.nparts) {
    case 0:
      return protocol::EncodePacket(f.magic, f.command, {});
    case 1:
      return protocol::EncodePacket(f.magic, f.command, {p[0]});
    case 2:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1]});
    case 3:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1], p[2]});
    case 4:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1], p[2], p[3]});
    case 5:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1], p[2], p[3], p[4]});
    case 6:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1], p[2], p[3], p[4], p[5]});
    case 7:
      return protocol::EncodePacket(f.magic, f.command, {p[0], p[1], p[2], p[3], p[4], p[5], p[6]});
    default:
      return protocol::EncodePacket(f.magic, f.command,
                                    {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]});
  }
}

}  // namespace gearbox::fuzz
