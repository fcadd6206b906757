#ifndef ROOMQ_CLIENTS_LOADGEN_MESSAGE_H_
#define ROOMQ_CLIENTS_LOADGEN_MESSAGE_H_

// The load generator's message, both ways: what a publisher sends (the
// reserved `publish` event: room, "m", publisher, seq, send time[, pad]) and
// what a receiver gets back (the EVENT ["m", publisher, seq, send time, ...]).
// The send time is this process's CLOCK_MONOTONIC in ns (MonotonicNs), so a
// receiver in the same process measures the latency from it.
//
// Thread safety: stateless functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomq::loadgen {

// CLOCK_MONOTONIC in ns.
uint64_t MonotonicNs();

// The extra string argument of `pad_bytes` bytes, with its leading comma
// (",\"xx...\""); empty for 0.
std::string PadArgument(int pad_bytes);

// Appends the arguments of the publish event of message `seq` of
// `publisher` to room "r<room>": ["publish","r<room>","m",publisher,seq,
// sent_ns<pad>], `pad` being a PadArgument.
void AppendPublishArgs(std::string& out, uint32_t room, uint32_t publisher, uint32_t seq,
                       uint64_t sent_ns, std::string_view pad);

struct Message {
  uint64_t publisher = 0;
  uint64_t seq = 0;
  uint64_t sent_ns = 0;
};

// The message in the arguments of a received EVENT (the JSON array text);
// nullopt when they are not ["m", publisher, seq, sent_ns, ...].
std::optional<Message> ParseMessageArgs(std::string_view args);

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_MESSAGE_H_
