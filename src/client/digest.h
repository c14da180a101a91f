// Hashes used by the client library: SHA-256 (payload-derived unique keys) and a 64-bit
// hash for the consistent-hash ring. Pure functions; safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace gearbox::client {

std::array<uint8_t, 32> Sha256(std::string_view data);

// FNV-1a (64-bit) followed by the MurmurHash3 fmix64 finaliser, which spreads FNV's weak low
// bits over the whole word. The exact definition is part of the placement rule
// (docs/client-library.md), so other clients can place keys the same way.
uint64_t RingHash(std::string_view data);

}  // namespace gearbox::client
