// LatencyHistogram: a log-linear histogram of durations in nanoseconds (about 0.8% resolution,
// fixed 60 KiB of counters), so a run of any length records latencies in constant memory.
// One histogram belongs to one load-loop thread; merge them on one thread after the run.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gearbox::load {

class LatencyHistogram {
 public:
  void Record(uint64_t ns);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  uint64_t min_ns() const { return count_ ? min_ : 0; }
  uint64_t max_ns() const { return max_; }
  double mean_ns() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The value at quantile q (0..1), as the midpoint of its bucket, clamped to [min, max].
  uint64_t Quantile(double q) const;

 private:
  static constexpr int kSubBits = 7;  // 128 linear buckets per power of two
  static constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;
  static size_t Index(uint64_t v);
  static uint64_t Lower(size_t index);
  static uint64_t Upper(size_t index);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace gearbox::load
