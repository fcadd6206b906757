#ifndef ROOMQ_CLIENTS_INCLUDE_ROOMQ_MESSAGE_H_
#define ROOMQ_CLIENTS_INCLUDE_ROOMQ_MESSAGE_H_

// roomq::Message: one received event, as handed to subscription handlers,
// service handlers and ack callbacks. A plain value; `args_json` is the
// publisher's JSON array text, untouched (never re-serialized).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roomq {

struct Message {
  std::string ns;                         // namespace, "/" or "/chat"
  std::vector<std::string> rooms;         // target rooms; empty = the whole namespace
  std::vector<std::string> except_rooms;  // carried as published
  std::string except_socket;              // carried as published
  std::string event;
  std::string args_json;                 // JSON array text: [{"text":"hi"},2]
  std::vector<std::string> attachments;  // binary args, indexed by placeholder num
  std::string socket_id;                 // service events and acks: the socket concerned
  std::optional<uint64_t> ack_id;        // set when the sender waits for an ack
  std::string origin;                    // publisher's node id
  uint64_t message_id = 0;               // unique and increasing per origin
  int64_t timestamp_us = 0;              // publisher's wall clock

  // Broker delivery header: epoch and per-topic history offsets (empty while
  // the broker keeps no history).
  struct Offset {
    std::string room;  // "" for the namespace topic, the node id for direct messages
    uint64_t offset = 0;
  };
  uint64_t epoch = 0;
  std::vector<Offset> offsets;
};

}  // namespace roomq

#endif  // ROOMQ_CLIENTS_INCLUDE_ROOMQ_MESSAGE_H_
