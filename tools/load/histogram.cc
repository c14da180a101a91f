#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gearbox::load {

// Values below 2^kSubBits get one bucket each. Above, the bucket is (exponent, top kSubBits
// bits below the leading one): 128 equal buckets per power of two.
size_t LatencyHistogram::Index(uint64_t v) {
  constexpr uint64_t kLinear = uint64_t{1} << kSubBits;
  if (v < kLinear) return static_cast<size_t>(v);
  int e = 63 - std::countl_zero(v);  // >= kSubBits
  uint64_t sub = (v >> (e - kSubBits)) & (kLinear - 1);
  return (static_cast<size_t>(e - kSubBits + 1) << kSubBits) + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::Lower(size_t index) {
  constexpr size_t kLinear = size_t{1} << kSubBits;
  if (index < kLinear) return index;
  int e = static_cast<int>(index >> kSubBits) + kSubBits - 1;
  uint64_t sub = index & (kLinear - 1);
  return (uint64_t{1} << e) | (sub << (e - kSubBits));
}

uint64_t LatencyHistogram::Upper(size_t index) {
  constexpr size_t kLinear = size_t{1} << kSubBits;
  if (index < kLinear) return index;
  int e = static_cast<int>(index >> kSubBits) + kSubBits - 1;
  return Lower(index) + (uint64_t{1} << (e - kSubBits)) - 1;
}

void LatencyHistogram::Record(uint64_t ns) {
  ++buckets_[Index(ns)];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the sample we want, 1-based: the smallest r with r >= q * count.
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      uint64_t mid = Lower(i) + (Upper(i) - Lower(i)) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace gearbox::load
