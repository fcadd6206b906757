#ifndef ROOMQ_BROKER_BROKER_H_
#define ROOMQ_BROKER_BROKER_H_

// The broker: one loop on one thread owning two ROUTER sockets.
//
//   --pub-bind  ROUTER  <- [Envelope] from publishers' DEALERs
//                       -> [PublishReceipt] when the envelope asked for it
//   --sub-bind  ROUTER  <- [SubscriberCommand] from subscribers' DEALERs
//                       -> [BrokerFrame{delivery|reply|pong|recovered|close_socket}]
//
// Publish path (the hot path): the loop reads a burst of up to 1024
// envelopes; for each, wire::ScanRouteInto reads the routing fields
// straight from the received bytes, RoutingTable::Match finds the
// subscribers, and the delivery frame (BrokerFrame{delivery{epoch,
// envelope}}, see proto/wire/delivery.h) is written once: a few header
// bytes and the publisher's envelope bytes verbatim, in one zmq buffer.
// Each recipient's Batch lists the frame. At the burst's end (after the
// log's Flush) every subscriber gets ONE message with all its deliveries of
// the burst, in publish order: [identity][frame][frame]..., each frame
// shared by reference count (zmq_msg_copy); past 8 frames or 256 KiB a
// further message starts. Per subscriber and burst that is one identity
// lookup, one pipe flush and one wake-up of the I/O thread instead of one
// per envelope. Receipts go after the burst's deliveries.
// Sends never block: ZMQ_ROUTER_MANDATORY is on, a subscriber at its
// high-water mark (EAGAIN) loses that message, i.e. all its deliveries
// (counted in dropped_hwm and the peer's `dropped`), an unreachable one
// (EHOSTUNREACH: its connection is gone) is removed. ZMQ_SNDHWM counts
// messages, so the subscriber socket's is hwm / 8: `hwm` deliveries once a
// subscriber falls behind a busy broker (full batches), down to hwm / 8 when
// every burst brings it one delivery.
// Bytes: everything sent to a subscriber peer (deliveries, replays, replies,
// pongs, Recovered) is counted in its PeerQueue (peer_queue.h: bytes ZeroMQ
// has not released yet). A message that would take it over
// max_peer_queue_bytes is not sent: its deliveries are dropped and counted
// in dropped_peer_bytes and the peer's `dropped`, like the high-water mark
// (a replay stops there and reports `truncated`; a Recovered answer that
// does not fit fails the recovery). So no subscriber makes the broker hold
// more than max_peer_queue_bytes for it, however big the messages (the
// high-water mark alone allowed hwm / 8 messages of up to 256 KiB or one
// max_message_bytes delivery each). Answers to an identity that never sent
// a command creating a peer (Hello, Subscribe, Recover) are not counted:
// they are small and bounded by the high-water mark.
//
// Ordering: a burst's deliveries are sent within DrainPublishers, before
// any subscriber command is read again, so an answer to a command (Reply,
// Pong, the replay of a resume, Recovered) never falls inside a burst: it
// follows every delivery routed before the command and precedes every
// delivery routed after it.
//
// Malformed input of any kind (wrong frame count, not a protobuf message,
// wrong version, unknown channel or kind, invalid topics) is dropped and
// counted by reason (BrokerStats::malformed); routing goes on. An envelope
// that was readable but invalid and asked for confirm gets a receipt with
// accepted=false and the reason.
//
// Subscriber commands (see proto/README.md): Hello starts a session,
// Subscribe/Unsubscribe change the routing table at once, then a Reply
// answers a non-zero request_id; Ping is answered with Pong{epoch, known,
// sequence}; Goodbye removes the peer. Peers silent for 3 heartbeats are
// expired.
//
// History (broker/history/history.h, proto/README.md "History, resume and
// recovery"): every CHANNEL_ROOMS KIND_EVENT envelope of a namespace whose
// max_messages > 0 is stamped with a broker-wide sequence and an offset per
// target topic, written into its delivery frame (so recipients see them) and
// into the PublishReceipt, and kept: History holds a shared copy of that very
// frame (no second copy of the bytes). Limits per namespace (max_messages,
// max_age) and for the whole (max_bytes) come from BrokerOptions.history
// (the --config file). Because one thread does everything, "replay, then
// Reply" in HandleSubscribe and "subscribe, then Recovered" in HandleRecover
// are atomic with respect to routing: no live delivery can fall between
// the replayed ones and the seam (no gap, no duplicate).
// Socket records (broker/sockets/socket_index.h, proto/README.md "Socket
// records"): gateways report their sockets with Sockets{updates, full};
// each update goes to the SocketIndex as the sending peer's node (from its
// Hello; Sockets before Hello are dropped and counted) under the peer's
// Hello generation, and `full` reconciles the node's records against every
// Open since that Hello. A peer removed for any reason but "replaced" (the
// same node's new connection, which lists its sockets next) takes its
// node's records to disconnected (PeerRemoved). Recover goes through the
// index: the checks (epoch, rooms, topic limit, history gaps, queue budget)
// run on the record before it moves; a takeover sends close_socket to the
// node that held it (its current peer, if any). Every Recover is counted by
// outcome. Expired records are removed by Housekeeping.
// A Subscribe's Reply lists each CHANNEL_ROOMS topic of a namespace that
// keeps history with its newest offset (Reply.current, in Reply.epoch).
//
// Persistence (BrokerOptions.data_dir, broker/storage/record_log.h): every
// kept envelope is appended to a RecordLog as one record (type 1: u64 LE
// wall-clock microseconds + the live delivery frame); on start the records
// are replayed into History (offsets, sequences and the epoch survive); the
// log is cut behind history's oldest entry (DropBefore) as it evicts. With a
// log, the burst's records are written (one Flush) before any of its
// deliveries and receipts is sent: a subscriber never holds an offset a
// SIGKILLed broker forgets. Without data_dir the
// epoch is random per start.
// The socket records are the SocketIndex's journal in data_dir/sockets
// (broker/sockets/socket_log.h, a RecordLog of its own): written after each run of
// subscriber commands, in Housekeeping (which also compacts when due), and
// before the answer to a Recover or to a Sockets with a request_id. On
// start they are loaded; records connected on a node that has not said
// Hello within 3 heartbeats are then disconnected.
//
// A failed log write: History keeps a burst's entries pending until its
// Flush succeeded (history.h "Pending entries"). When the Flush fails, the
// burst's records are discarded (RecordLog::DiscardBuffered: the log's
// buffer never holds more than one burst), its entries abandoned (their
// sequences and offsets were never handed out and are given again), their
// deliveries not sent, and every publish of the burst that history would
// have kept is refused: PublishReceipt{accepted=false, error="history log
// unavailable"} when it asked for confirm, counted in history_refused
// either way. Envelopes history does not keep are routed as usual. The
// broker is "history failing" (gauge, /healthz degraded) from the failed
// write until a write succeeds; every burst tries again, so publishing
// resumes by itself once the disk takes writes again. A broken log (a failed
// fsync, or a failed write that could not be cut back: RecordLog::broken())
// fails every write until the broker restarts.
//
// Thread safety: Create() may run on one thread and Run() on another (the
// sockets move with the thread start's memory barrier); after that every
// method except Stop() belongs to the thread running Run(). Stop() may be
// called from any thread and from a signal handler.
//
// Limits (BrokerOptions, with defaults): high-water mark 100000 per socket
// and peer, in both directions (messages; deliveries on the subscriber
// socket, see above); max message size 4 MiB (ZeroMQ drops the connection
// of a peer that sends more; the broker never sees the message); 64 MiB
// queued per subscriber peer (see Bytes above); 1,000,000 topics per
// subscriber (more is refused with Reply{ok=false}); at most
// wire::kMaxRoomsPerEnvelope rooms per envelope. What a publishing peer
// makes the broker hold is bounded in messages only: its receive queue
// (up to hwm envelopes of up to max_message_bytes, drained every loop turn)
// and its receipts (up to hwm, each about as big as its envelope's rooms).
// Socket records: 1,000,000 records and 512 MiB of encoded records in all
// (BrokerOptions.sessions; at the bound the soonest-expiring disconnected
// record is evicted, else a new one refused: socket_index.h).
//
// Failover pair (BrokerOptions.pair, broker/failover/README.md): a broker
// with a pair role also binds a pair socket (ROUTER) and connects a DEALER
// to its peer's; every pair heartbeat each sends its PairHeartbeat. A
// failover::PairStateMachine decides whether nodes are served: every
// command but Goodbye is a node's request; while not active the broker
// answers it with BrokerFrame{standby} and carries nothing out, and drops
// envelopes (a refused receipt when asked). A broker that turns passive
// while it served sends standby to every peer and forgets them.
// Replication (broker_replica.cc, broker/failover/README.md "What the
// backup holds"): the active broker sends its passive peer a snapshot of
// history and the socket records, then every record it appends to either,
// in order; the passive applies them with the code that replays the logs
// at start and appends them to its own logs. With ack_both a burst's
// deliveries and receipts wait for the passive's acknowledgement.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "broker/failover/pair_state.h"
#include "broker/history/history.h"
#include "broker/peer_table.h"
#include "broker/routing_table.h"
#include "broker/sockets/socket_index.h"
#include "broker/sockets/socket_log.h"
#include "broker/stats.h"
#include "broker/storage/record_log.h"
#include "proto/base/clock.h"
#include "proto/node/endpoints.h"
#include "proto/roomq.pb.h"
#include "proto/wire/route.h"

namespace roomq::broker {

// What a delivery frame adds to its envelope at most: epoch, sequence and
// one offset per target room, each naming its topic (up to
// wire::kMaxRoomsPerEnvelope rooms of up to 256 + 1024 bytes of names).
inline constexpr int64_t kMaxDeliveryOverheadBytes = int64_t{2} << 20;

// One broker of a failover pair; a broker without a role runs alone.
struct BrokerPairOptions {
  bool enabled = false;
  failover::Role role = failover::Role::kPrimary;
  std::string bind;  // the pair socket (ROUTER) the peer's heartbeats reach
  std::string peer;  // the peer's pair socket
  // PairHeartbeat period; the peer is lost after two silent ones.
  std::chrono::milliseconds heartbeat{1000};
  // --pair-ack both: a burst's deliveries and receipts go out once the
  // passive peer acknowledged its records too (else once this broker's own
  // log has them), and the passive keeps the epoch when it takes over.
  bool ack_both = false;
  // Replication bytes queued for the passive and not acknowledged, beyond
  // its snapshot, past which the passive is dropped (it syncs again).
  size_t max_lag_bytes = size_t{256} << 20;
};

struct BrokerOptions {
  std::string pub_bind = node::kDefaultPubEndpoint;
  std::string sub_bind = node::kDefaultSubEndpoint;
  // Heartbeat assumed for subscribers whose Hello says 0 (and before Hello).
  std::chrono::milliseconds heartbeat{1000};
  // ZMQ_SNDHWM and ZMQ_RCVHWM on both sockets (messages, per peer); the
  // subscriber socket's SNDHWM is hwm / wire::kMaxDeliveriesPerMessage (8,
  // rounded up), its messages holding up to 8 deliveries each.
  int hwm = 100000;
  // ZMQ_MAXMSGSIZE on both sockets: a peer sending a larger message (one
  // frame) is disconnected by ZeroMQ. The default fits the largest envelope
  // a gateway publishes: an event of up to --max-event-bytes (1,000,000)
  // plus its target rooms (a relay to all of a socket's rooms: up to 1000
  // names of up to 1 KiB) and fixed fields, about 2.05 MB, with room to
  // spare; subscriber commands are kept below 1 MiB by the Link.
  int64_t max_message_bytes = 4 << 20;
  // Bytes queued for one subscriber peer (see Bytes above). At least
  // max_message_bytes + kMaxDeliveryOverheadBytes, so that the largest
  // delivery fits an empty queue. Nodes must accept messages this large
  // (LinkOptions::max_message_bytes, 64 MiB by default): a Recovered answer
  // can be.
  int64_t max_peer_queue_bytes = int64_t{64} << 20;
  int max_topics_per_peer = 1000000;
  // How often the stats line is logged (only when something changed).
  std::chrono::milliseconds stats_interval{10000};
  // History limits and the socket records' bounds (the --config file).
  history::HistoryOptions history;
  sockets::SocketIndexOptions sessions;
  // Where history (a RecordLog) and socket records (a RecordLog in
  // DIR/sockets) are persisted; empty = memory only. The epoch is then the
  // history log's (its EPOCH file) and `epoch` is ignored.
  std::string data_dir;
  storage::FsyncPolicy fsync = storage::FsyncPolicy::kInterval;
  // The log's file operations (storage/env.h); tests inject failures here.
  // Must outlive the broker.
  storage::Env* log_env = storage::Env::Default();
  // The Delivery/Pong epoch; 0 picks a random one.
  uint64_t epoch = 0;
  // CURVE secret key (Z85) of both sockets; empty = plain TCP. When set, a
  // security::ZapHandler must run on the same context (broker/security).
  std::string curve_secret_key;
  // The one clock of the broker: peer heartbeats, housekeeping,
  // stats and the log's fsync interval (Now()); history timestamps and
  // retention (WallNow()). Must outlive the broker. zmq_poll still waits in
  // real time, bounded by the next timer as this clock sees it.
  const base::Clock* clock = &base::Clock::Real();
  BrokerPairOptions pair;
};

class Broker {
 public:
  // Creates and binds both sockets and, with data_dir, opens the log and
  // restores history from it. InvalidArgument for a bad option or
  // endpoint, Unavailable when an endpoint cannot be bound (in use), the
  // log's error (DataLoss for a corrupt log, FailedPrecondition when another
  // broker holds the dir, ...).
  static absl::StatusOr<std::unique_ptr<Broker>> Create(zmq::context_t& context,
                                                        BrokerOptions options);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // The endpoints actually bound (ZMQ_LAST_ENDPOINT: "tcp://127.0.0.1:*"
  // becomes the real port).
  const std::string& pub_endpoint() const { return pub_endpoint_; }
  const std::string& sub_endpoint() const { return sub_endpoint_; }
  // The pair socket actually bound; empty without a pair role.
  const std::string& pair_endpoint() const { return pair_endpoint_; }
  uint64_t epoch() const { return epoch_; }

  // Logs "roomq-broker listening pub=... sub=... epoch=...", then routes
  // until Stop(). Logs the final stats line before returning. Internal when
  // polling fails for a reason other than a signal.
  absl::Status Run();
  // Makes Run() return soon. Thread-safe and async-signal-safe.
  void Stop();

  // Counters; from the loop thread or after Run() returned.
  const BrokerStats& stats() const { return stats_; }
  // History and socket records; for tests, from the loop thread or after
  // Run().
  const history::History& history() const { return *history_; }
  const sockets::SocketIndex& sockets() const { return *sockets_; }

  // Calls `observer` on the loop thread with a copy of the counters (peers
  // and topics current) about every `interval` while Run() runs, and once
  // more as it returns; used to publish them to the metrics endpoint
  // (broker/metrics.h). Call before Run(). The observer must be quick: it
  // runs on the routing thread.
  void SetStatsObserver(std::function<void(const BrokerStats&)> observer,
                        std::chrono::milliseconds interval);

 private:
  // One subscriber's deliveries of the current publish burst.
  struct Batch {
    const Subscriber* subscriber = nullptr;
    std::vector<uint32_t> frames;  // indexes into burst_frames_, publish order
  };
  // A PublishReceipt of the current burst, sent after its deliveries.
  struct PendingReceipt {
    std::string identity;
    std::string receipt;
    bool kept = false;  // history keeps the envelope: refused if the log write fails
  };
  // What SendFrames did with a run of frames to one subscriber.
  struct SendResult {
    size_t sent = 0;         // frames handed to ZeroMQ
    size_t full = 0;         // frames dropped: the subscriber was at its HWM
    size_t over_budget = 0;  // frames dropped: over its max_peer_queue_bytes
    size_t unreachable = 0;  // frames dropped: its connection is gone
  };
  // What SendMessage did with one message.
  enum class SendOutcome { kSent, kFull, kOverBudget, kUnreachable };

  Broker(zmq::context_t& context, BrokerOptions options, uint64_t epoch);
  absl::Status Bind();
  absl::Status OpenLog();
  absl::Status OpenSocketLog();
  void RestoreRecord(const storage::Record& record);
  // Writes the socket records' buffered changes (no-op without a log);
  // failures are counted and logged once per failing spell.
  void FlushSocketLog(bool compact = false);
  // Flushes the log (a no-op OK without one). False when the write failed:
  // counted, logged once per failing spell, and history_failing is set; a
  // Flush that writes records clears it.
  bool FlushLog();
  // At a burst's end: commits the burst's history entries, or, when its log
  // records could not be written, refuses their publishes (see above).
  void SettleHistory();

  void DrainPublishers();
  void DrainSubscribers();
  void Route();
  void BuildDeliveryFrame(uint64_t sequence, std::span<const wire::RoomOffset> offsets);
  // Sends `frames` to `peer` in as few ROUTER messages as the batch limits
  // allow ([identity][frame]...[frame], each frame shared by zmq_msg_copy,
  // counted and marked in the peer's PeerQueue). A message refused at the
  // high-water mark or over the byte budget loses all its frames; with
  // stop_when_full the rest are not tried (counted the same way). An
  // unreachable peer loses every remaining frame.
  SendResult SendFrames(const Peer& peer, std::span<zmq::message_t* const> frames,
                        bool stop_when_full);
  // Sends [identity][frame] on the subscriber socket and closes `frame`:
  // counted, marked and within the budget when `peer` is given, as is when
  // it is null (an identity without a peer).
  SendOutcome SendMessage(std::string_view identity, const Peer* peer, zmq_msg_t* frame);
  // Sends the burst's batches (one message per subscriber, or more past the
  // limits), then its receipts, then removes unreachable peers.
  void SendBurst();
  std::string EncodeReceipt(bool accepted, std::string_view error, uint64_t sequence,
                            std::span<const wire::RoomOffset> offsets,
                            uint64_t ack_sockets = 0) const;
  // PublishReceipt.ack_sockets of the envelope being routed.
  uint64_t AckSockets() const;
  void SendReceipt(std::string_view identity, const std::string& receipt);
  void RemoveUnreachable();
  void HandleCommand(std::string_view identity, const zmq::message_t& body);
  void HandleSubscribe(Peer& peer, const v1::SubscriberCommand& command);
  void HandleSockets(std::string_view identity, const v1::SubscriberCommand& command,
                     Clock::time_point now);
  void HandleRecover(Peer& peer, const v1::SubscriberCommand& command);
  // Answers a Presence query from the socket records (any peer may ask).
  void HandlePresence(std::string_view identity, const v1::SubscriberCommand& command);
  // A peer left (PeerTable's removal observer): unless a newer connection
  // of the same node replaced it, the node's socket records disconnect.
  void PeerRemoved(const Peer& peer, std::string_view reason);
  void SendCloseSocket(std::string_view node, std::string_view ns, std::string_view socket_id);
  // Counts a Recover answer by outcome (and in recovered / recover_failed).
  void CountRecovery(RecoveryOutcome outcome);
  int64_t WallMicros() const;
  void HandleUnsubscribe(std::string_view identity, Peer* peer,
                         const v1::SubscriberCommand& command);
  void SendReply(std::string_view identity, uint64_t request_id, bool ok, std::string_view error);
  // Reply.current and Reply.epoch for a Subscribe: each CHANNEL_ROOMS topic
  // of a namespace that keeps history with its newest offset (0 = none),
  // where a subscriber resumes from after an outage before its first
  // delivery of the topic.
  void AddCurrentOffsets(const v1::Subscribe& subscribe, v1::Reply& reply) const;
  void SendBrokerFrame(std::string_view identity, const v1::BrokerFrame& frame);

  // The failover pair (broker_pair.cc).
  absl::Status BindPair();
  // True when nodes are served now. A node's command (`from_node`) is a
  // request in the Binary Star sense and may make a passive broker active.
  bool PairServes(bool from_node);
  void SendStandby(std::string_view identity);
  void DrainPair();
  void SendPairHeartbeat(Clock::time_point now);
  // Logs a transition and, when this broker stops serving, sends standby to
  // every peer and forgets them.
  void ApplyPairTransition(const failover::PairTransition& transition);
  // Sends standby to every peer and forgets them (this broker stopped
  // serving; deferred while a burst waits for the passive).
  void DropPeersForStandby();
  void HandlePairFrame(const v1::PairFrame& frame);
  void SendPairFrame(const v1::PairFrame& frame);

  // Replication, active side (broker_replica.cc).
  // A record to replicate: added to the message being built, which is
  // queued once it is big enough or at ShipReplica.
  void AddReplicaRecord(v1::ReplicatedLog log, uint8_t type, std::string payload);
  // Queues the message being built (if any records, or a flag, are in it)
  // and hands ZeroMQ what it takes of the queue.
  void ShipReplica();
  void QueueReplicaMessage();
  void FlushReplicaOutbox();
  void StartReplicaSession();
  void EndReplicaSession(std::string_view why);
  void HandleReplicaAck(const v1::ReplicaAck& ack);
  // --pair-ack both: ships the burst's records and waits until the passive
  // acknowledged them, it is lost, or the broker stops.
  void AwaitReplica();
  // Replication, passive side.
  void HandleReplicate(const v1::Replicate& replicate);
  void RequestSync(Clock::time_point now);
  // Takes the active's complete_at (0 = unchanged) and recomputes whether
  // this broker holds everything the active delivered.
  void NoteCompleteAt(uint64_t complete_at);
  void AckReplica();
  // Drops history, socket records and both logs, and takes `epoch`: the
  // start of a snapshot from the active.
  void ResetForSnapshot(uint64_t epoch);
  // This broker turned active after following its peer: the epoch rule.
  void TakeOver();
  void Housekeeping(Clock::time_point now);
  void RefreshGauges();
  void LogStats(bool final);

  const BrokerOptions options_;
  uint64_t epoch_;  // set once by Create (the log's with data_dir)
  zmq::socket_t pub_;
  zmq::socket_t sub_;
  std::string pub_endpoint_;
  std::string sub_endpoint_;
  std::unique_ptr<failover::PairStateMachine> pair_;  // with a pair role
  zmq::socket_t pair_in_;                             // ROUTER: the peer's heartbeats
  zmq::socket_t pair_out_;                            // DEALER: ours, to the peer
  std::string pair_endpoint_;
  Clock::time_point next_pair_heartbeat_;
  // The replication stream this broker feeds while active.
  struct ReplicaFeed {
    uint64_t session = 0;   // 0 = no passive follows
    uint64_t position = 0;  // of the last message queued
    uint64_t acked = 0;
    uint64_t snapshot_end = 0;  // position of the snapshot's last message
    size_t snapshot_bytes = 0;
    std::deque<std::pair<uint64_t, size_t>> unacked;  // (position, bytes)
    size_t unacked_bytes = 0;
    std::deque<std::string> outbox;  // encoded PairFrames ZeroMQ has not taken
    v1::Replicate building;          // the next message's records
    size_t building_bytes = 0;
    std::vector<std::string> burst_history;  // the burst's history records, until settled
    // With --pair-ack both: the last position sent unwaited (Replicate.complete_at); 0 until the
    // snapshot is acknowledged.
    uint64_t complete_at = 0;

    bool synced() const { return session != 0 && acked >= snapshot_end; }
  };
  ReplicaFeed feed_;
  // The stream this broker follows while passive.
  struct ReplicaFollow {
    uint64_t session = 0;  // 0 = none (or a gap was seen)
    uint64_t position = 0;
    uint64_t complete_at = 0;  // the active's Replicate.complete_at; 0 = not known yet
    bool synced = false;       // the snapshot is complete and nothing was missed since
    bool ack_due = false;
    Clock::time_point next_request;
  };
  ReplicaFollow follow_;
  bool awaiting_replica_ = false;  // AwaitReplica runs: peer removal waits
  bool standby_pending_ = false;   // ... and this broker stopped serving meanwhile
  std::unique_ptr<sockets::SocketRecordEncoder> socket_journal_;
  int wake_fd_ = -1;  // eventfd written by Stop()
  std::atomic<bool> stop_{false};

  RoutingTable routes_;
  PeerTable peers_;
  BrokerStats stats_;
  BrokerStats last_logged_;
  Clock::time_point next_housekeeping_;
  Clock::time_point next_stats_;
  std::function<void(const BrokerStats&)> stats_observer_;
  std::chrono::milliseconds stats_observer_interval_{100};
  Clock::time_point next_observe_;

  // Reused on the hot path so routing makes no allocation of its own in
  // steady state (libzmq allocates each received envelope's buffer and each
  // delivery frame's one shared buffer: one per envelope, not per recipient).
  zmq::message_t delivery_;    // current delivery frame, shared by all recipients
  zmq::message_t identity_;    // current publish message: sender identity
  zmq::message_t body_;        // current publish message: envelope bytes
  wire::EnvelopeRoute route_;  // views into body_
  std::vector<const Subscriber*> targets_;
  std::vector<std::string> unreachable_;
  // The current publish burst's traffic (empty between bursts, so command
  // answers never overtake or fall between a burst's deliveries): one
  // shared delivery frame per routed envelope, one Batch per subscriber
  // (slots [0, batch_count_) in use, reused across bursts with their
  // capacity), the receipts.
  std::vector<zmq::message_t> burst_frames_;
  std::vector<bool> burst_frame_kept_;  // per burst frame: history keeps its envelope
  uint64_t burst_kept_ = 0;             // envelopes of the burst history keeps (pending)
  absl::flat_hash_map<const Subscriber*, uint32_t> batch_of_;
  std::vector<Batch> batches_;
  size_t batch_count_ = 0;
  std::vector<PendingReceipt> receipts_;
  std::vector<zmq::message_t*> frame_scratch_;

  // Owned through pointers so that a passive broker taking a snapshot from
  // its active peer starts both afresh (broker_replica.cc).
  std::unique_ptr<history::History> history_;
  std::unique_ptr<sockets::SocketIndex> sockets_;
  std::unique_ptr<sockets::SocketLog> socket_log_;  // with data_dir
  bool socket_log_failing_ = false;
  // After a restart with records from disk: when the nodes holding them
  // must have said Hello (3 heartbeats), else their records disconnect.
  bool restart_grace_pending_ = false;
  Clock::time_point restart_grace_until_;
  Clock::time_point next_refusal_log_;  // rate limit of the "socket records full" line
  uint64_t refusals_unlogged_ = 0;
  int64_t wall_now_us_ = 0;  // wall clock, refreshed per publish burst
  std::unique_ptr<storage::RecordLog> log_;
  std::string record_scratch_;
  bool log_failing_ = false;      // the last write failed; no write succeeded since
  uint64_t restore_skipped_ = 0;  // log records not understood on restore
};

}  // namespace roomq::broker

#endif  // ROOMQ_BROKER_BROKER_H_
