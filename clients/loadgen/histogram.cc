#include "clients/loadgen/histogram.h"

#include <algorithm>
#include <cmath>

namespace roomq::loadgen {

int Histogram::BucketOf(uint64_t value) {
  constexpr uint64_t kLinear = uint64_t{1} << (kSubBits + 1);  // 64
  if (value < kLinear) return static_cast<int>(value);
  const int msb = 63 - __builtin_clzll(value);
  const int shift = msb - kSubBits;
  return (shift + 1) * (1 << kSubBits) + static_cast<int>((value >> shift) - (1u << kSubBits));
}

uint64_t Histogram::BucketUpperBound(int bucket) {
  constexpr int kSub = 1 << kSubBits;
  if (bucket < 2 * kSub) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSub - 1;
  const uint64_t mantissa = static_cast<uint64_t>(bucket % kSub) + kSub;
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::Record(uint64_t value) {
  ++counts_[static_cast<size_t>(BucketOf(value))];
  ++count_;
  max_ = std::max(max_, value);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  const uint64_t target = std::max<uint64_t>(1, std::min(rank, count_));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= target) return std::min(BucketUpperBound(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace roomq::loadgen
