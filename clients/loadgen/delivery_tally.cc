#include "clients/loadgen/delivery_tally.h"

#include <cstddef>

namespace roomq::loadgen {

DeliveryTally::DeliveryTally(int receivers, int publishers)
    : last_seq_(static_cast<size_t>(receivers),
                std::vector<uint32_t>(static_cast<size_t>(publishers), 0)) {}

void DeliveryTally::Record(uint32_t receiver, const Message& message, uint64_t now_ns) {
  if (receiver >= last_seq_.size()) return;
  std::vector<uint32_t>& seen = last_seq_[receiver];
  if (message.publisher >= seen.size()) return;
  uint32_t& last = seen[message.publisher];
  if (message.seq <= last) {
    ++duplicates_;
    return;
  }
  if (message.seq > last + 1u) gaps_ += message.seq - last - 1u;
  last = static_cast<uint32_t>(message.seq);
  ++delivered_;
  latency_.Record(now_ns > message.sent_ns ? now_ns - message.sent_ns : 0);
}

void DeliveryTally::AddTo(Report& report) const {
  report.delivered = delivered_;
  report.gaps = gaps_;
  report.duplicates = duplicates_;
  report.p50_us = static_cast<double>(latency_.Quantile(0.5)) / 1e3;
  report.p99_us = static_cast<double>(latency_.Quantile(0.99)) / 1e3;
  report.p999_us = static_cast<double>(latency_.Quantile(0.999)) / 1e3;
  report.max_us = static_cast<double>(latency_.max()) / 1e3;
}

}  // namespace roomq::loadgen
