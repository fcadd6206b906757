// Socket.IO connection state recovery on the gateway side: the wire helpers
// (recovery.h), the offset argument in dispatched frames, the `recovery`
// config key, and the Connection/Shard flow against a fake bridge — pid in
// the CONNECT answer, sessions saved on recoverable closes only, and a
// recovered socket getting its CONNECT answer, then its missed events, then
// live ones, each once.

#include "gateway/socketio/recovery.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/engineio/address_table.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/dispatch.h"
#include "gateway/socketio/packet.h"
#include "gateway/socketio/shard.h"
#include "proto/base/clock.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using std::chrono::milliseconds;
using testing::FakePort;
using testing::FakeSession;

// ---- wire helpers ----------------------------------------------------------

TEST(RecoveryWireTest, RecoverableReasonsAreSocketIos) {
  for (const char* reason : {"transport error", "transport close", "forced close", "ping timeout",
                             "server shutting down", "forced server close"}) {
    EXPECT_TRUE(IsRecoverableReason(reason)) << reason;
  }
  for (const char* reason : {"client namespace disconnect", "server namespace disconnect",
                             "parse error", "rate limit exceeded", ""}) {
    EXPECT_FALSE(IsRecoverableReason(reason)) << reason;
  }
}

TEST(RecoveryWireTest, PrivateSessionIdsAre128RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string pid = NewPrivateSessionId();
    ASSERT_TRUE(std::regex_match(pid, std::regex("[A-Za-z0-9_-]{21}[AQgw]"))) << pid;
    seen.insert(pid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(RecoveryWireTest, OffsetsRoundTrip) {
  EXPECT_EQ(FormatOffset({7, 42}), "7-42");
  EXPECT_EQ(OffsetArg({7, 42}), R"("7-42")");
  const EventOffset big{18446744073709551615u, 1};
  auto parsed = ParseOffset(FormatOffset(big));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->epoch, big.epoch);
  EXPECT_EQ(parsed->sequence, 1u);
  for (const char* bad : {"", "7", "7-", "-42", "7-42-1", "a-1", "1-b", " 1-2", "1-2 ",
                          "18446744073709551616-1", "KhGn7k6"}) {
    EXPECT_FALSE(ParseOffset(bad).has_value()) << bad;
  }
}

TEST(RecoveryWireTest, ClaimsComeFromTheConnectAuth) {
  auto claim = ParseRecoveryClaim(R"({"token":"t","pid":"abc","offset":"1-2"})");
  ASSERT_TRUE(claim.has_value());
  EXPECT_EQ(claim->pid, "abc");
  EXPECT_EQ(claim->offset, "1-2");
  claim = ParseRecoveryClaim(R"({"pid":"abc"})");
  ASSERT_TRUE(claim.has_value());
  EXPECT_FALSE(claim->offset.has_value());
  claim = ParseRecoveryClaim(R"({"pid":"abc","offset":5})");
  ASSERT_TRUE(claim.has_value());
  EXPECT_FALSE(claim->offset.has_value()) << "a non-string offset is no offset";
  for (const char* bad :
       {"", "{}", "[]", R"({"pid":""})", R"({"pid":1})", R"({"pid":"a")", "not json"}) {
    EXPECT_FALSE(ParseRecoveryClaim(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseRecoveryClaim(R"({"pid":")" + std::string(65, 'x') + R"("})").has_value());
}

// ---- offsets in frames -----------------------------------------------------

v1::Envelope Event(const std::string& nsp, const std::vector<std::string>& rooms,
                   const std::string& event, const std::string& args) {
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_(nsp);
  for (auto& room : rooms) envelope.add_rooms(room);
  envelope.set_event(event);
  envelope.set_args(args);
  return envelope;
}

std::string FrameText(const SharedDispatch& dispatch) {
  return dispatch->frame ? dispatch->frame->at(0).data : "<none>";
}

TEST(RecoveryFrameTest, AppendArgAddsOneLastElement) {
  EXPECT_EQ(AppendArg("[1,{\"a\":[2]}]", R"("5-7")"), R"([1,{"a":[2]},"5-7"])");
  EXPECT_EQ(AppendArg("[]", R"("5-7")"), R"(["5-7"])");
  EXPECT_EQ(AppendArg("[ \n ]", R"("5-7")"), R"(["5-7"])");
  EXPECT_EQ(AppendArg("", R"("5-7")"), R"(["5-7"])");
  EXPECT_EQ(AppendArg("[1] \n", R"("5-7")"), R"([1,"5-7"])");
}

TEST(RecoveryFrameTest, EventsCarryTheirOffsetOnce) {
  const std::string offset = OffsetArg({3, 12});
  EXPECT_EQ(FrameText(MakeDispatch(Event("/", {"r"}, "chat", R"([{"t":1}])"), offset)),
            R"(2["chat",{"t":1},"3-12"])");
  EXPECT_EQ(FrameText(MakeDispatch(Event("/chat", {}, "tick", ""), offset)),
            R"(2/chat,["tick","3-12"])");
  EXPECT_EQ(FrameText(MakeDispatch(Event("/", {"r"}, "chat", "[1]"))), R"(2["chat",1])")
      << "no offset for a namespace without recovery";
  // Binary: the offset follows the placeholders.
  v1::Envelope binary = Event("/", {"r"}, "file", R"([{"_placeholder":true,"num":0}])");
  binary.add_attachments("\x01\x02");
  SharedDispatch dispatch = MakeDispatch(std::move(binary), offset);
  ASSERT_TRUE(dispatch->frame);
  EXPECT_EQ(dispatch->frame->at(0).data, R"(51-["file",{"_placeholder":true,"num":0},"3-12"])");
  // An event asking for an ack is encoded per socket, never with an offset
  // (npm socket.io neither offsets nor keeps them either).
  v1::Envelope asking = Event("/", {"r"}, "q", "[1]");
  asking.set_ack_id(9);
  asking.set_reply_to("svc");
  EXPECT_FALSE(MakeDispatch(std::move(asking), offset)->frame);
  // Acks are not events: no offset.
  v1::Envelope ack;
  ack.set_kind(v1::KIND_ACK);
  ack.set_channel(v1::CHANNEL_ROOMS);
  ack.set_namespace_("/");
  ack.set_ack_id(4);
  ack.set_args("[true]");
  EXPECT_EQ(FrameText(MakeDispatch(std::move(ack), offset)), "34[true]");
}

// ---- config ----------------------------------------------------------------

TEST(RecoveryConfigTest, RecoveryIsPerNamespaceAndOffByDefault) {
  auto config = ParseConfig(R"(
namespaces:
  - name: /
  - name: /a
    recovery: {max_disconnection: 2m}
  - name: /b
    recovery: {}
  - name: /c
    recovery:
      max_disconnection: 1500ms
  - name: /d
    recovery: {max_disconnection: 3s}
)");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->namespaces.size(), 5u);
  EXPECT_FALSE(config->namespaces[0].recovery.has_value());
  EXPECT_EQ(config->namespaces[1].recovery, milliseconds(120000));
  EXPECT_EQ(config->namespaces[2].recovery, milliseconds(120000)) << "Socket.IO's default";
  EXPECT_EQ(config->namespaces[3].recovery, milliseconds(1500));
  EXPECT_EQ(config->namespaces[4].recovery, milliseconds(3000));
  EXPECT_FALSE(DefaultConfig().namespaces[0].recovery.has_value());
}

TEST(RecoveryConfigTest, BadRecoveryValuesAreErrorsWithTheLine) {
  for (const char* value :
       {"true", "2m", "{max_disconnection: 0s}", "{max_disconnection: 25h}",
        "{max_disconnection: 5}", "{max_disconnection: 5 s}", "{max_disconnection: -1s}",
        "{window: 2m}", "{max_disconnection: [1s]}"}) {
    auto config =
        ParseConfig(std::string("namespaces:\n  - name: /\n    recovery: ") + value + "\n");
    ASSERT_FALSE(config.ok()) << value;
    EXPECT_NE(config.status().message().find("config:3:"), std::string::npos)
        << value << ": " << config.status();
  }
}

// ---- the Connection / Shard flow ---------------------------------------------

// A socket id as a gateway issues it (16 characters and their check), so a
// recovery of it is not refused for an id that does not verify.
const std::string kOldSid = "OldSocketIdOldSo" + auth::SocketIdCheck("OldSocketIdOldSo");

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    join: 'room-.*'
    relay: broadcast
    recovery: {max_disconnection: 30s}
  - name: /plain
    relay: broadcast
  - name: /guarded
    forward: true
    middleware: required
    recovery: {max_disconnection: 30s}
)";

struct Client {
  std::unique_ptr<FakeSession> session;
  std::unique_ptr<Connection> connection;

  void Send(std::string_view text) { connection->OnMessage(text, false); }
  std::vector<std::string> Take() { return session->TakeSent(); }
};

class RecoveryFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_, ShardOptions{});
    port_->SetPosition(3, 100);
  }

  Client NewClient() {
    Client client;
    client.session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++sessions_));
    client.connection = std::make_unique<Connection>(*client.session, shard_, ConnectionOptions{});
    return client;
  }

  void Run() {
    io_.restart();
    io_.poll();
  }
  void Confirm() {
    port_->ConfirmAll();
    Run();
  }

  struct Answer {
    std::string sid;
    std::string pid;  // "" when none
  };
  static Answer ParseAnswer(const std::string& text, const std::string& prefix = "0") {
    static const std::regex with_pid(
        R"re(^0(?:/[^,]*,)?\{"sid":"([A-Za-z0-9_-]{20})","pid":"([A-Za-z0-9_-]+)"\}$)re");
    static const std::regex without(R"re(^0(?:/[^,]*,)?\{"sid":"([A-Za-z0-9_-]{20})"\}$)re");
    std::smatch match;
    if (std::regex_match(text, match, with_pid)) return {match[1].str(), match[2].str()};
    if (std::regex_match(text, match, without)) return {match[1].str(), ""};
    ADD_FAILURE() << "not a CONNECT answer: " << text;
    return {};
  }

  Answer Connect(Client& client, const std::string& packet = "0") {
    client.Send(packet);
    Confirm();
    std::vector<std::string> sent = client.Take();
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? Answer{} : ParseAnswer(sent[0]);
  }

  void Join(Client& client, const std::string& room) {
    client.Send(R"(21["join",")" + room + R"("])");
    Confirm();
    EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(31[{"ok":true}])"}));
  }

  void Deliver(v1::Envelope envelope, uint64_t sequence) {
    shard_->OnDispatch(MakeDispatch(std::move(envelope), OffsetArg({3, sequence})));
    Run();
  }

  static bridge::Recovery Session(const std::string& sid, const std::string& pid,
                                  const std::vector<std::string>& rooms) {
    bridge::Recovery recovery;
    recovery.session.set_pid(pid);
    recovery.session.set_namespace_("/");
    recovery.session.set_socket_id(sid);
    for (auto& room : rooms) recovery.session.add_rooms(room);
    recovery.session.set_epoch(3);
    recovery.session.set_since_sequence(90);
    return recovery;
  }

  // The last Close the port got for `socket_id`, or null.
  const v1::SocketUpdate* LastCloseOf(const std::string& socket_id) {
    const auto& updates = port_->updates();
    for (auto it = updates.rbegin(); it != updates.rend(); ++it) {
      if (it->has_close() && it->close().socket_id() == socket_id) return &*it;
    }
    return nullptr;
  }

  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int sessions_ = 0;
};

TEST_F(RecoveryFlowTest, ConnectAnswerCarriesAPidOnlyWhereRecoveryIsOn) {
  Client client = NewClient();
  const Answer root = Connect(client);
  EXPECT_EQ(root.pid.size(), 22u);
  const Answer plain = Connect(client, "0/plain,");
  EXPECT_EQ(plain.pid, "") << "no recovery configured for /plain";
  Client other = NewClient();
  EXPECT_NE(Connect(other).pid, root.pid);
  EXPECT_TRUE(port_->recovers().empty()) << "a CONNECT without pid claims nothing";
}

TEST_F(RecoveryFlowTest, TheBrokerHoldsARecordOfEveryConnectedSocketKeptCurrentOnJoinAndLeave) {
  Client client = NewClient();
  const Answer answer = Connect(client);
  Client plain = NewClient();
  Connect(plain, "0/plain,");  // no recovery: a record all the same (presence), no pid, no ttl
  ASSERT_EQ(port_->records().size(), 2u);
  const v1::Session& record = port_->records().at("/#" + answer.sid);
  EXPECT_EQ(record.pid(), answer.pid);
  EXPECT_EQ(record.ttl_ms(), 30000u);
  EXPECT_EQ(record.epoch(), 3u);
  EXPECT_EQ(record.since_sequence(), 100u);
  EXPECT_EQ(record.address(), "127.0.0.1:1234");
  EXPECT_EQ(std::vector<std::string>(record.rooms().begin(), record.rooms().end()),
            std::vector<std::string>{answer.sid})
      << "its own room; the namespace room is not a record room";
  const v1::Session& plain_record = port_->records().begin()->first == "/#" + answer.sid
                                        ? port_->records().rbegin()->second
                                        : port_->records().begin()->second;
  EXPECT_EQ(plain_record.namespace_(), "/plain");
  EXPECT_EQ(plain_record.pid(), "");
  EXPECT_EQ(plain_record.ttl_ms(), 0u);

  const size_t before = port_->updates().size();
  Join(client, "room-a");
  Join(client, "room-a");  // already in it: no change to report
  client.Send(R"(21["leave","room-a"])");
  Confirm();
  client.Take();  // the leave's ack
  Join(client, "room-b");
  Run();
  ASSERT_EQ(port_->updates().size(), before + 3);
  EXPECT_EQ(port_->updates()[before].rooms().joined(0), "room-a");
  EXPECT_EQ(port_->updates()[before + 1].rooms().left(0), "room-a");
  EXPECT_EQ(port_->updates()[before + 2].rooms().joined(0), "room-b");
  const v1::Session& current = port_->records().at("/#" + answer.sid);
  EXPECT_EQ(std::set<std::string>(current.rooms().begin(), current.rooms().end()),
            (std::set<std::string>{answer.sid, "room-b"}));

  plain.connection->OnClose("transport close");
  Run();
  EXPECT_EQ(port_->records().size(), 1u);
  EXPECT_TRUE(port_->saved().empty()) << "a namespace without recovery keeps nothing";
}

TEST_F(RecoveryFlowTest, ASocketWhoseRecordMovedIsClosedWithoutAReportOfItsOwn) {
  Client client = NewClient();
  const Answer answer = Connect(client);
  Run();
  const size_t before = port_->updates().size();
  shard_->CloseMovedSocket("/", "not-held-here");  // nothing to close
  shard_->CloseMovedSocket("/", answer.sid);
  EXPECT_EQ(client.Take(), std::vector<std::string>{"1"}) << "the client is told";
  EXPECT_EQ(shard_->stats().sockets_taken_over, 1u);
  EXPECT_EQ(shard_->socket_count(), 0u);
  Run();
  EXPECT_EQ(port_->updates().size(), before) << "the record is the other node's now";
  client.connection->OnClose("transport close");
  Run();
  EXPECT_TRUE(port_->saved().empty());
}

TEST_F(RecoveryFlowTest, RecoverableClosesSaveTheSessionForTheWindow) {
  Client client = NewClient();
  const Answer answer = Connect(client);
  Join(client, "room-a");
  port_->SetPosition(3, 150);  // later traffic does not move the replay start
  client.connection->OnClose("transport close");
  ASSERT_EQ(port_->saved().size(), 1u);
  const v1::Session& session = port_->saved()[0].session;
  EXPECT_EQ(port_->saved()[0].ttl, milliseconds(30000));
  EXPECT_EQ(session.pid(), answer.pid);
  EXPECT_EQ(session.namespace_(), "/");
  EXPECT_EQ(session.socket_id(), answer.sid);
  EXPECT_EQ(std::set<std::string>(session.rooms().begin(), session.rooms().end()),
            (std::set<std::string>{answer.sid, "room-a"}));
  EXPECT_EQ(session.epoch(), 3u);
  EXPECT_EQ(session.since_sequence(), 100u);
}

// The session starts where the broker's answers to the socket's rooms put
// the gateway (the bridge notes a Reply's sequence before it confirms), not
// where it was when the CONNECT came in: events between the two reached no
// one connected as this socket.
TEST_F(RecoveryFlowTest, TheSessionStartsOnceTheSocketsRoomsAreConfirmed) {
  Client client = NewClient();
  client.Send("0");
  port_->SetPosition(3, 120);  // the Reply to its subscriptions said 120
  Confirm();
  const std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 1u);
  const Answer answer = ParseAnswer(sent[0]);
  const v1::Session& record = port_->records().at("/#" + answer.sid);
  EXPECT_EQ(record.epoch(), 3u);
  EXPECT_EQ(record.since_sequence(), 120u);
}

TEST_F(RecoveryFlowTest, FinalClosesSaveNothing) {
  {
    Client client = NewClient();
    Connect(client);
    client.Send("1");  // the client's own disconnect
    client.connection->OnClose("transport close");
  }
  {
    Client client = NewClient();
    Connect(client);
    client.Send(R"(2["ev",)");  // parse error
  }
  {
    Client client = NewClient();
    Connect(client);
    v1::Envelope kick;
    kick.set_kind(v1::KIND_DISCONNECT);
    kick.set_channel(v1::CHANNEL_ROOMS);
    kick.set_namespace_("/");
    shard_->OnDispatch(MakeDispatch(std::move(kick)));  // server namespace disconnect
    Run();
    client.connection->OnClose("transport close");
  }
  {
    Client client = NewClient();
    Connect(client, "0/plain,");
    client.connection->OnClose("ping timeout");  // recoverable, but /plain has no recovery
  }
  {
    Client client = NewClient();
    client.Send("0");  // never answered: nothing to recover
    client.connection->OnClose("transport close");
  }
  Run();
  EXPECT_TRUE(port_->saved().empty());
  Client client = NewClient();
  Connect(client);
  client.connection->OnClose("ping timeout");
  Run();
  EXPECT_EQ(port_->saved().size(), 1u) << "the control case saves";
}

TEST_F(RecoveryFlowTest, RecoveredSocketGetsConnectThenMissedThenLiveEachOnce) {
  Client member = NewClient();  // keeps room-a subscribed on this shard
  Connect(member);
  Join(member, "room-a");
  const std::string old_sid = kOldSid;

  Client client = NewClient();
  client.Send(R"(0{"token":"x","pid":"secret-pid","offset":"3-105"})");
  Run();
  EXPECT_TRUE(client.Take().empty()) << "no answer before the broker's";
  ASSERT_EQ(port_->recovers().size(), 1u);
  const v1::Recover& request = port_->recovers()[0].request;
  EXPECT_EQ(request.pid(), "secret-pid");
  EXPECT_EQ(request.namespace_(), "/");
  EXPECT_EQ(request.epoch(), 3u);
  EXPECT_EQ(request.after_sequence(), 105u);
  EXPECT_FALSE(request.use_session_start());

  // The broker's answer, with deliveries posted around it as the bridge
  // would: one before (already in the missed list), one after (newer).
  bridge::Recovery recovery = Session(old_sid, "secret-pid", {old_sid, "room-a"});
  auto missed = [&](v1::Envelope envelope, uint64_t sequence) {
    recovery.missed.push_back(MakeDispatch(std::move(envelope), OffsetArg({3, sequence})));
  };
  missed(Event("/", {"room-a"}, "m", "[1]"), 106);
  v1::Envelope own = Event("/", {"room-a"}, "m", "[2]");
  own.set_except_socket(old_sid);  // its own publish
  missed(std::move(own), 107);
  v1::Envelope excluded = Event("/", {"room-a"}, "m", "[3]");
  excluded.add_except_rooms("room-a");
  missed(std::move(excluded), 108);
  missed(Event("/", {}, "m", "[4]"), 109);  // namespace-wide
  v1::Envelope asking = Event("/", {old_sid}, "q", "[5]");
  asking.set_ack_id(1);
  asking.set_reply_to("svc");
  missed(std::move(asking), 110);
  missed(Event("/", {old_sid}, "m", "[6]"), 111);  // to the socket itself

  boost::asio::post(io_, [this] {
    shard_->OnDispatch(MakeDispatch(Event("/", {"room-a"}, "m", "[1]"), OffsetArg({3, 106})));
  });
  port_->AnswerRecover(std::move(recovery));
  boost::asio::post(io_, [this] {
    shard_->OnDispatch(MakeDispatch(Event("/", {"room-a"}, "m", "[7]"), OffsetArg({3, 112})));
  });
  Run();

  EXPECT_EQ(client.Take(), (std::vector<std::string>{
                               absl::StrCat(R"(0{"sid":")", kOldSid, R"(","pid":"secret-pid"})"),
                               R"(2["m",1,"3-106"])",
                               R"(2["m",4,"3-109"])",
                               R"(2["m",6,"3-111"])",
                               R"(2["m",7,"3-112"])",
                           }));
  EXPECT_EQ(member.Take(),
            (std::vector<std::string>{R"(2["m",1,"3-106"])", R"(2["m",7,"3-112"])"}));
  // Its rooms are back: a later delivery to the old id reaches it, and the
  // shard subscribed what it took over (room-a was already held).
  Deliver(Event("/", {old_sid}, "direct", "[]"), 113);
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(2["direct","3-113"])"}));
  EXPECT_EQ(port_->subscribed().back(), "/#" + old_sid);

  // Closing again saves the same pid, id and rooms, with the first
  // session's replay start.
  client.connection->OnClose("transport error");
  Run();
  ASSERT_EQ(port_->saved().size(), 1u);
  const v1::Session& saved = port_->saved()[0].session;
  EXPECT_EQ(saved.pid(), "secret-pid");
  EXPECT_EQ(saved.socket_id(), old_sid);
  EXPECT_EQ(std::set<std::string>(saved.rooms().begin(), saved.rooms().end()),
            (std::set<std::string>{old_sid, "room-a"}));
  EXPECT_EQ(saved.since_sequence(), 90u);
}

TEST_F(RecoveryFlowTest, NoOffsetReplaysFromTheSessionStart) {
  Client client = NewClient();
  client.Send(R"(0{"pid":"p1"})");
  Run();
  ASSERT_EQ(port_->recovers().size(), 1u);
  EXPECT_TRUE(port_->recovers()[0].request.use_session_start());
  EXPECT_EQ(port_->recovers()[0].request.epoch(), 3u);
}

TEST_F(RecoveryFlowTest, FailedRecoveryGivesAFreshSession) {
  Client client = NewClient();
  client.Send(R"(0{"pid":"expired","offset":"3-1"})");
  Run();
  port_->AnswerRecover(absl::NotFoundError("unknown session"));
  Run();
  EXPECT_TRUE(client.Take().empty()) << "the fresh socket waits for its own rooms";
  Confirm();
  std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 1u);
  const Answer answer = ParseAnswer(sent[0]);
  EXPECT_EQ(answer.pid.size(), 22u);
  EXPECT_NE(answer.pid, "expired") << "a new pid: the client's `recovered` stays false";
  // A malformed offset is not sent to the broker at all.
  Client other = NewClient();
  const Answer fresh = Connect(other, R"(0{"pid":"p","offset":"not-an-offset"})");
  EXPECT_NE(fresh.pid, "p");
  EXPECT_TRUE(port_->recovers().empty());
  // Namespaces without recovery ignore a pid.
  Client plain = NewClient();
  EXPECT_EQ(Connect(plain, R"(0/plain,{"pid":"p","offset":"3-1"})").pid, "");
  EXPECT_TRUE(port_->recovers().empty());
}

// As Socket.IO: a recovered socket skips the namespace middleware and keeps
// the socket.data it was admitted with; a failed recovery is judged afresh.
TEST_F(RecoveryFlowTest, ARecoveredSocketSkipsTheMiddlewareAndKeepsItsData) {
  Client client = NewClient();
  client.Send(R"(0/guarded,{"pid":"secret-pid","offset":"3-100"})");
  Run();
  bridge::Recovery recovery = Session(kOldSid, "secret-pid", {kOldSid});
  recovery.session.set_namespace_("/guarded");
  recovery.session.set_data(R"({"user":"ann"})");
  port_->AnswerRecover(std::move(recovery));
  Run();
  EXPECT_EQ(client.Take(), (std::vector<std::string>{absl::StrCat(R"(0/guarded,{"sid":")", kOldSid,
                                                                  R"(","pid":"secret-pid"})")}));
  ASSERT_EQ(port_->published().size(), 1u) << "no handshake: only the connection";
  const v1::Envelope& connection = port_->published()[0].envelope;
  EXPECT_EQ(connection.kind(), v1::KIND_CONNECTION);
  EXPECT_EQ(connection.socket_data(), R"({"user":"ann"})");
  EXPECT_EQ(port_->records().at("/guarded#" + kOldSid).data(), R"({"user":"ann"})");

  Client fresh = NewClient();
  fresh.Send(R"(0/guarded,{"pid":"expired","offset":"3-1"})");
  Run();
  port_->AnswerRecover(absl::NotFoundError("unknown session"));
  Run();
  Confirm();
  EXPECT_TRUE(fresh.Take().empty()) << "waits for the middleware's verdict";
  ASSERT_EQ(port_->published().size(), 2u);
  EXPECT_EQ(port_->published()[1].envelope.kind(), v1::KIND_HANDSHAKE);
}

TEST_F(RecoveryFlowTest, ASessionWhoseIdDoesNotVerifyIsNotRecovered) {
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-101"})");
  Run();
  // An id issued before ids carried their check: it could hold a reserved
  // room it should not, so the client gets a fresh session.
  port_->AnswerRecover(Session("OldSocketIdOldSocket", "p", {"OldSocketIdOldSocket", "room-a"}));
  Run();
  Confirm();
  std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 1u);
  const Answer answer = ParseAnswer(sent[0]);
  EXPECT_NE(answer.sid, "OldSocketIdOldSocket");
  EXPECT_NE(answer.pid, "p");
  EXPECT_EQ(shard_->stats().recoveries_failed, 1u);
  EXPECT_EQ(shard_->stats().recoveries, 0u);
  // The record the broker moved here is removed: it can never recover.
  const v1::SocketUpdate* close = LastCloseOf("OldSocketIdOldSocket");
  ASSERT_NE(close, nullptr);
  EXPECT_FALSE(close->close().recoverable());
}

TEST_F(RecoveryFlowTest, RecoveredRoomsAreCheckedAgainstTheCurrentPolicy) {
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-101"})");
  Run();
  // Saved under an older policy: "staff" no longer matches join 'room-.*',
  // and another socket's id room is never a room to hold.
  const std::string other_sid = "AnotherSocketIdA" + auth::SocketIdCheck("AnotherSocketIdA");
  bridge::Recovery recovery = Session(kOldSid, "p", {kOldSid, "room-a", "staff", other_sid});
  recovery.missed.push_back(MakeDispatch(Event("/", {"staff"}, "m", "[1]"), OffsetArg({3, 102})));
  recovery.missed.push_back(MakeDispatch(Event("/", {"room-a"}, "m", "[2]"), OffsetArg({3, 103})));
  port_->AnswerRecover(std::move(recovery));
  Run();
  std::vector<std::string> sent = client.Take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ParseAnswer(sent[0]).sid, kOldSid);
  EXPECT_EQ(sent[1], R"(2["m",2,"3-103"])") << "nothing missed in a dropped room";
  EXPECT_EQ(shard_->stats().recovery_rooms_dropped, 2u);
  // Live traffic of the dropped room does not reach it either.
  Deliver(Event("/", {"staff"}, "m", "[3]"), 104);
  Deliver(Event("/", {"room-a"}, "m", "[4]"), 105);
  EXPECT_EQ(client.Take(), (std::vector<std::string>{R"(2["m",4,"3-105"])"}));
}

TEST_F(RecoveryFlowTest, RecoveredRoomsRespectTheRoomLimit) {
  auto config = ParseConfig(kConfig);
  ASSERT_TRUE(config.ok());
  ShardOptions options;
  options.max_rooms_per_socket = 3;  // its own room, the namespace and one more
  shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                   port_, options);
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-101"})");
  Run();
  port_->AnswerRecover(Session(kOldSid, "p", {kOldSid, "room-a", "room-b", "room-c"}));
  Run();
  ASSERT_EQ(client.Take().size(), 1u);
  EXPECT_EQ(shard_->stats().recovery_rooms_dropped, 2u);
}

TEST_F(RecoveryFlowTest, RecoveredRoomsRespectTheAddressRoomLimit) {
  base::FakeClock clock;
  auto table = engineio::AddressTable::Create(
      {.handshake_rate = 0, .max_sessions = 0, .max_rooms = 5}, clock);
  auto key = engineio::AddressKey::Of(boost::asio::ip::make_address("192.0.2.1"));
  Client other = NewClient();
  other.session->SetAddress(table->Admit(key).lease);
  Connect(other);  // 2 of the address's 5
  Client client = NewClient();
  client.session->SetAddress(table->Admit(key).lease);
  client.Send(R"(0{"pid":"p","offset":"3-101"})");
  Run();
  port_->AnswerRecover(Session(kOldSid, "p", {kOldSid, "room-a", "room-b", "room-c"}));
  Run();
  ASSERT_EQ(client.Take().size(), 1u);
  EXPECT_EQ(shard_->stats().recovery_rooms_dropped, 2u) << "its own room, the namespace, room-a";
  EXPECT_EQ(client.session->handshake().address.rooms(), 5u);
  client.connection.reset();
  other.connection.reset();
  EXPECT_EQ(client.session->handshake().address.rooms(), 0u);
}

TEST_F(RecoveryFlowTest, SocketGoneBeforeTheAnswerHandsTheRoomsBack) {
  Client member = NewClient();
  Connect(member);
  Join(member, "room-a");
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-1"})");
  Run();
  client.connection->OnClose("transport close");
  port_->unsubscribed().clear();
  port_->AnswerRecover(Session(kOldSid, "p", {kOldSid, "room-a", "room-b"}));
  Run();
  EXPECT_TRUE(client.Take().empty());
  // room-a and the namespace room still have a local member; the others
  // had none and go back.
  EXPECT_EQ(std::set<std::string>(port_->unsubscribed().begin(), port_->unsubscribed().end()),
            (std::set<std::string>{"/#" + kOldSid, "/#room-b"}));
  // The record the broker moved here goes back to waiting for the client.
  const v1::SocketUpdate* close = LastCloseOf(kOldSid);
  ASSERT_NE(close, nullptr);
  EXPECT_TRUE(close->close().recoverable());
  EXPECT_EQ(port_->records().count("/#" + kOldSid), 0u)
      << "no record stays connected here without a socket";
}

TEST_F(RecoveryFlowTest, ALastMemberLeavingDuringARecoveryDoesNotDropTheRoom) {
  // The broker's answer may already count this shard for room-a: its last
  // member leaving meanwhile must not unsubscribe it under the recovering
  // socket's feet.
  Client member = NewClient();
  Connect(member);
  Join(member, "room-a");
  Join(member, "room-b");
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-1"})");
  Run();
  port_->unsubscribed().clear();
  member.Send(R"(2["leave","room-a"])");
  member.Send(R"(2["leave","room-b"])");
  Run();
  EXPECT_TRUE(port_->unsubscribed().empty()) << "deferred while a recovery is pending";
  port_->AnswerRecover(Session(kOldSid, "p", {kOldSid, "room-a"}));
  Run();
  // room-a was taken over by the recovered socket; room-b has nobody.
  EXPECT_EQ(port_->unsubscribed(), (std::vector<std::string>{"/#room-b"}));
  EXPECT_EQ(shard_->rooms().Members("/", "room-a")->size(), 1u);
}

TEST_F(RecoveryFlowTest, DeferredUnsubscribesGoOutWhenARecoveryFails) {
  Client member = NewClient();
  Connect(member);
  Join(member, "room-a");
  Client client = NewClient();
  client.Send(R"(0{"pid":"p","offset":"3-1"})");
  Run();
  port_->unsubscribed().clear();
  member.Send(R"(2["leave","room-a"])");
  Run();
  EXPECT_TRUE(port_->unsubscribed().empty());
  port_->AnswerRecover(absl::NotFoundError("unknown session"));
  Run();
  EXPECT_EQ(port_->unsubscribed(), (std::vector<std::string>{"/#room-a"}));
}

}  // namespace
}  // namespace roomq::gateway::socketio
