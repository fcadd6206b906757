#ifndef ROOMQ_CLIENTS_LOADGEN_HISTOGRAM_H_
#define ROOMQ_CLIENTS_LOADGEN_HISTOGRAM_H_

// A log-linear latency histogram in the manner of HdrHistogram: values below
// 64 have a bucket each; above, every power of two is split into 32 equal
// buckets, so a reported percentile is within ~3% of the true value.
// Fixed memory (a few KiB), O(1) Record, no allocation after construction.
//
// Thread safety: none; one owner thread.

#include <array>
#include <cstdint>

namespace roomq::loadgen {

class Histogram {
 public:
  void Record(uint64_t value);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The upper bound of the bucket holding the q-quantile (0 < q <= 1);
  // 0 when empty.
  uint64_t Quantile(double q) const;

  static int BucketOf(uint64_t value);
  static uint64_t BucketUpperBound(int bucket);

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kBuckets = (64 - kSubBits + 1) * (1 << kSubBits);
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_HISTOGRAM_H_
