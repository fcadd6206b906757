#ifndef ROOMQ_CLIENTS_LOADGEN_DELIVERY_TALLY_H_
#define ROOMQ_CLIENTS_LOADGEN_DELIVERY_TALLY_H_

// What the receivers of one run got, counted for its Report: per receiver
// the last sequence number seen from each publisher, from which every
// message is delivered (the next or a later number; the numbers skipped are
// gaps) or a duplicate (not above the last one), and the latency of each
// delivered message in a Histogram.
//
// Memory: one uint32_t per (receiver, publisher), allocated up front.
// Thread safety: none; the load generator's one thread owns it.

#include <cstdint>
#include <vector>

#include "clients/loadgen/histogram.h"
#include "clients/loadgen/load_options.h"
#include "clients/loadgen/message.h"

namespace roomq::loadgen {

class DeliveryTally {
 public:
  DeliveryTally(int receivers, int publishers);

  // `message` reached `receiver` at `now_ns` (MonotonicNs). A message from a
  // publisher number out of range is ignored.
  void Record(uint32_t receiver, const Message& message, uint64_t now_ns);

  uint64_t delivered() const { return delivered_; }

  // Sets the report's delivered, gaps, duplicates and latency figures.
  void AddTo(Report& report) const;

 private:
  std::vector<std::vector<uint32_t>> last_seq_;  // [receiver][publisher]
  uint64_t delivered_ = 0;
  uint64_t gaps_ = 0;
  uint64_t duplicates_ = 0;
  Histogram latency_;
};

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_DELIVERY_TALLY_H_
