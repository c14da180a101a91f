#include "gearbox/unique.h"

#include <random>

#include "client/digest.h"

namespace gearbox {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return rng;
}

}  // namespace

std::string Unique::Resolve(std::string_view payload, bool background) const {
  switch (kind_) {
    case Kind::kAuto:
      return background ? NewUuid() : std::string();
    case Kind::kNone:
      return {};
    case Kind::kExplicit:
      return key_;
    case Kind::kGenerated:
      return NewUuid();
    case Kind::kFromPayload:
      return PayloadKey(payload);
  }
  return {};
}

std::string NewUuid() {
  uint64_t hi = Rng()();
  uint64_t lo = Rng()();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xc0ULL << 56)) | (0x80ULL << 56);  // RFC 4122 variant
  uint8_t b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

std::string PayloadKey(std::string_view payload) {
  auto d = client::Sha256(payload);
  std::string s;
  s.reserve(32);
  for (int i = 0; i < 16; ++i) {
    s.push_back(kHex[d[i] >> 4]);
    s.push_back(kHex[d[i] & 15]);
  }
  return s;
}

}  // namespace gearbox
