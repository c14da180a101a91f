// gearbox::Unique: how a submitted job's unique key is chosen (explicit, generated, or derived
// from the payload). A value type; any thread may use its own instances. NewUuid() is
// thread-safe (a per-thread generator).
//
// The unique key matters in two places:
//   * the server coalesces jobs of the same function with the same non-empty unique key
//     (a second submitter joins the running job and receives its result);
//   * the client places jobs that have a unique key on a server by consistent hashing, so every
//     client sends the same key to the same server (docs/client-library.md, "Placement").
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace gearbox {

// Gearman servers store at most 63 bytes of a unique key; longer keys are rejected client-side.
inline constexpr size_t kMaxUniqueSize = 63;

class Unique {
 public:
  enum class Kind {
    kAuto,         // foreground: no key; background: a generated UUID (libgearman's default)
    kNone,         // no key: the server never coalesces the job
    kExplicit,     // the given key
    kGenerated,    // a fresh random UUID (version 4)
    kFromPayload,  // a digest of the payload: equal payloads share a key (and a server)
  };

  Unique() = default;  // kAuto
  // An explicit key. "-" is passed through: gearmand then uses the payload as the key.
  Unique(std::string key) : kind_(Kind::kExplicit), key_(std::move(key)) {}  // NOLINT
  Unique(const char* key) : Unique(std::string(key)) {}                      // NOLINT
  Unique(std::string_view key) : Unique(std::string(key)) {}                 // NOLINT

  static Unique Auto() { return Unique(); }
  static Unique None() { return Unique(Kind::kNone); }
  static Unique Generated() { return Unique(Kind::kGenerated); }
  static Unique FromPayload() { return Unique(Kind::kFromPayload); }

  Kind kind() const { return kind_; }
  const std::string& key() const { return key_; }

  // The key to send for a job with this payload.
  std::string Resolve(std::string_view payload, bool background) const;

 private:
  explicit Unique(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kAuto;
  std::string key_;
};

// A random version-4 UUID in its 36-character text form.
std::string NewUuid();

// The key Unique::FromPayload() uses: the first 128 bits of SHA-256(payload) as 32 lowercase hex
// digits.
std::string PayloadKey(std::string_view payload);

}  // namespace gearbox
