#ifndef ROOMQ_BROKER_BROKER_INTERNAL_H_
#define ROOMQ_BROKER_BROKER_INTERNAL_H_

// What the files defining Broker share (broker.cc: the loop and the publish
// path; broker_persistence.cc: history and socket logs; broker_commands.cc:
// the subscriber-command protocol; broker_pair.cc: the failover pair;
// broker_replica.cc: its replication). Not part of the broker's API.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/clock.h"
#include "proto/wire/delivery.h"

namespace roomq::broker::internal {

// Messages read from one socket before the loop looks at the other one and
// at its timers: keeps either side from starving the other.
inline constexpr int kBurst = 1024;
// Limits of one ROUTER message to a subscriber: at most this many frames
// (deliveries), and no more bytes than kMaxBatchBytes (broker.cc) unless its
// only frame is larger. A burst's deliveries past them go in further messages.
inline constexpr size_t kMaxBatchFrames = wire::kMaxDeliveriesPerMessage;
// RecordLog record types.
inline constexpr uint8_t kRecordEnvelope = 1;  // u64 LE wall-clock us + live delivery frame

inline int64_t MicrosSinceEpoch(base::Clock::WallTime time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}

inline std::string_view View(const zmq::message_t& message) {
  return {static_cast<const char*>(message.data()), message.size()};
}

// A random non-zero 64-bit value: an epoch, a replication session.
inline uint64_t RandomNonZero() {
  std::random_device random;
  uint64_t value = 0;
  while (value == 0) value = (static_cast<uint64_t>(random()) << 32) ^ random();
  return value;
}

// The payload of a kRecordEnvelope record, into `out`.
inline void EncodeEnvelopeRecord(int64_t time_us, std::string_view frame, std::string& out) {
  const auto time = static_cast<uint64_t>(time_us);
  out.resize(sizeof(time));
  for (size_t i = 0; i < sizeof(time); ++i) out[i] = static_cast<char>(time >> (8 * i));
  out.append(frame);
}

// Receives and discards the rest of a multipart message.
inline void DrainRest(zmq::socket_t& socket) {
  zmq::message_t rest;
  do {
    if (zmq_msg_recv(rest.handle(), socket.handle(), ZMQ_DONTWAIT) < 0) return;
  } while (rest.more());
}

// A socket's bind that failed, as Create() reports it: Unavailable when the
// address is taken or not ours (the caller may retry), InvalidArgument for
// a malformed endpoint. `flag` names the option ("--pub-bind").
inline absl::Status BindError(std::string_view flag, const std::string& endpoint,
                              const zmq::error_t& error) {
  const std::string message = absl::StrCat(ToAbsl(flag), " ", endpoint, ": ", error.what());
  if (error.num() == EADDRINUSE || error.num() == EADDRNOTAVAIL || error.num() == EACCES) {
    return absl::UnavailableError(message);
  }
  return absl::InvalidArgumentError(message);
}

}  // namespace roomq::broker::internal

#endif  // ROOMQ_BROKER_BROKER_INTERNAL_H_
