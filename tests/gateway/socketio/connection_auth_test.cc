// Namespace auth and reserved rooms in the Connection (gateway/socketio/
// auth/, connection.cc) against a fake Engine.IO session and a fake bridge:
// CONNECT refusals with their reasons and counters, the `rooms` and
// `publish` claims, and socket-id rooms no client may join (while other
// names of the same shape are ordinary rooms).

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/config.h"
#include "gateway/socketio/connection.h"
#include "gateway/socketio/shard.h"
#include "proto/base/absl_compat.h"
#include "proto/base/clock.h"
#include "tests/gateway/socketio/fakes.h"

namespace roomq::gateway::socketio {
namespace {

using testing::FakePort;
using testing::FakeSession;

constexpr char kSecretEnv[] = "ROOMQ_CONNECTION_AUTH_TEST_SECRET";
constexpr std::string_view kSecret = "connection-auth-test-secret-of-32+bytes";

constexpr char kConfig[] = R"(
namespaces:
  - name: /
    join: '.*'
    relay: broadcast
  - name: /secure
    join: '(lobby|team-.*|admin)'
    relay: broadcast
    auth:
      type: jwt
      secret_env: ROOMQ_CONNECTION_AUTH_TEST_SECRET
  - name: /kept
    join: '.*'
    recovery: {max_disconnection: 30s}
    auth:
      type: jwt
      secret_env: ROOMQ_CONNECTION_AUTH_TEST_SECRET
  - name: /judged
    middleware: required
    auth:
      type: jwt
      secret_env: ROOMQ_CONNECTION_AUTH_TEST_SECRET
)";

std::string B64(std::string_view bytes) { return absl::WebSafeBase64Escape(ToAbsl(bytes)); }

std::string Token(std::string_view claims, std::string_view key = kSecret) {
  std::string signing = absl::StrCat(B64(R"({"alg":"HS256","typ":"JWT"})"), ".", B64(claims));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing.data()), signing.size(), mac, &size);
  return absl::StrCat(signing, ".", B64(std::string_view(reinterpret_cast<char*>(mac), size)));
}

std::string AuthPayload(std::string_view token) {
  return absl::StrCat(R"({"token":")", ToAbsl(token), R"("})");
}

struct Client {
  std::unique_ptr<FakeSession> session;
  std::unique_ptr<Connection> connection;
  void Send(std::string_view text) { connection->OnMessage(text, false); }
  std::vector<std::string> Take() { return session->TakeSent(); }
};

class ConnectionAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv(kSecretEnv, std::string(kSecret).c_str(), 1);
    auto config = ParseConfig(kConfig);
    ASSERT_TRUE(config.ok()) << config.status();
    ASSERT_TRUE(LoadSecrets(*config).ok());
    shard_ = std::make_shared<Shard>(0, io_.get_executor(), std::make_shared<const Config>(*config),
                                     port_);
  }
  void TearDown() override { ::unsetenv(kSecretEnv); }

  Client NewClient() {
    Client client;
    client.session = std::make_unique<FakeSession>(io_, "eio" + std::to_string(++sessions_));
    ConnectionOptions options;
    options.clock = &clock_;
    options.timers = &timers_;
    client.connection = std::make_unique<Connection>(*client.session, shard_, options);
    return client;
  }
  // Claims valid for 10 minutes from the connections' clock (not the real
  // one: it reads 2026-01-01, so a Connection reading the real time would
  // find these tokens expired).
  std::string ValidClaims(std::string_view extra = "") const {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.WallNow().time_since_epoch())
            .count();
    return absl::StrCat(R"({"sub":"alice","exp":)", now + 600, ToAbsl(extra), "}");
  }
  void Confirm() {
    port_->ConfirmAll();
    io_.restart();
    io_.poll();
  }
  // Sends CONNECT and returns the one answer.
  std::string ConnectAnswer(Client& client, const std::string& nsp, const std::string& data) {
    client.Send("0" + (nsp == "/" ? "" : nsp + ",") + data);
    Confirm();
    std::vector<std::string> sent = client.Take();
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? "" : sent[0];
  }
  std::string Connect(Client& client, const std::string& nsp, const std::string& data = "") {
    std::string answer = ConnectAnswer(client, nsp, data);
    std::smatch match;
    static const std::regex kAnswer(R"re(^0(/[^,]*,)?\{"sid":"([A-Za-z0-9_-]{20})"\}$)re");
    EXPECT_TRUE(std::regex_match(answer, match, kAnswer)) << answer;
    return match.size() > 2 ? match[2].str() : "";
  }
  // Sends an event and returns what the client got once the broker
  // confirmed any subscription.
  std::vector<std::string> Exchange(Client& client, const std::string& packet) {
    client.Send(packet);
    Confirm();
    return client.Take();
  }

  base::FakeClock clock_;
  engineio::FakeTimerService timers_{clock_};
  boost::asio::io_context io_;
  std::shared_ptr<FakePort> port_ = std::make_shared<FakePort>(io_);
  std::shared_ptr<Shard> shard_;
  int sessions_ = 0;
};

// The JWT policy runs before the service middleware: a CONNECT it refuses
// is never described to the services.
TEST_F(ConnectionAuthTest, TheTokenIsCheckedBeforeTheServiceMiddleware) {
  Client client = NewClient();
  EXPECT_EQ(ConnectAnswer(client, "/judged", ""), R"(4/judged,{"message":"missing token"})");
  EXPECT_TRUE(port_->published().empty());
  client.Send("0/judged," + AuthPayload(Token(ValidClaims())));
  Confirm();
  EXPECT_TRUE(client.Take().empty()) << "admitted by the token, waiting for the verdict";
  ASSERT_EQ(port_->published().size(), 1u);
  EXPECT_EQ(port_->published()[0].envelope.kind(), v1::KIND_HANDSHAKE);
}

TEST_F(ConnectionAuthTest, RefusedConnectsGetTheReasonAndAreCounted) {
  Client client = NewClient();
  EXPECT_EQ(ConnectAnswer(client, "/secure", ""), R"(4/secure,{"message":"missing token"})");
  EXPECT_EQ(ConnectAnswer(client, "/secure", R"({"token":42})"),
            R"(4/secure,{"message":"missing token"})");
  EXPECT_EQ(ConnectAnswer(client, "/secure", AuthPayload(Token(ValidClaims(), "wrong key"))),
            R"(4/secure,{"message":"invalid token"})");
  EXPECT_EQ(ConnectAnswer(client, "/secure", AuthPayload(Token(R"({"exp":1000})"))),
            R"(4/secure,{"message":"token expired"})");
  EXPECT_EQ(shard_->socket_count(), 0u);
  EXPECT_FALSE(client.session->closed()) << "a refused CONNECT leaves the session open";
  const auto& refusals = shard_->stats().auth_refusals;
  EXPECT_EQ(refusals.at("missing token"), 2u);
  EXPECT_EQ(refusals.at("invalid token"), 1u);
  EXPECT_EQ(refusals.at("token expired"), 1u);
  // The same session then connects with a good token; "/" needs none.
  Connect(client, "/secure", AuthPayload(Token(ValidClaims())));
  Connect(client, "/");
  EXPECT_EQ(shard_->socket_count(), 2u);
}

TEST_F(ConnectionAuthTest, RoomsClaimNarrowsTheNamespaceJoinPolicy) {
  Client client = NewClient();
  Connect(client, "/secure",
          AuthPayload(Token(ValidClaims(R"(,"rooms":["lobby","^team-[a-c]$"])"))));
  EXPECT_EQ(Exchange(client, R"(2/secure,1["join","lobby"])"),
            (std::vector<std::string>{R"(3/secure,1[{"ok":true}])"}));
  EXPECT_EQ(Exchange(client, R"(2/secure,2["join","team-b"])"),
            (std::vector<std::string>{R"(3/secure,2[{"ok":true}])"}));
  // Allowed by the namespace's join, not by the claim:
  EXPECT_EQ(
      Exchange(client, R"(2/secure,3["join","admin"])"),
      (std::vector<std::string>{R"(3/secure,3[{"error":"joining this room is not allowed"}])"}));
  EXPECT_EQ(
      Exchange(client, R"(2/secure,4["join","team-z"])"),
      (std::vector<std::string>{R"(3/secure,4[{"error":"joining this room is not allowed"}])"}));
  // Allowed by the claim's shape but not by the namespace:
  Client other = NewClient();
  Connect(other, "/secure", AuthPayload(Token(ValidClaims(R"(,"rooms":["^.*$"])"))));
  EXPECT_EQ(
      Exchange(other, R"(2/secure,5["join","elsewhere"])"),
      (std::vector<std::string>{R"(3/secure,5[{"error":"joining this room is not allowed"}])"}));
  EXPECT_EQ(Exchange(other, R"(2/secure,6["join","admin"])"),
            (std::vector<std::string>{R"(3/secure,6[{"ok":true}])"}));
}

TEST_F(ConnectionAuthTest, PublishFalseStopsPublishAndRelay) {
  Client client = NewClient();
  Connect(client, "/secure", AuthPayload(Token(ValidClaims(R"(,"publish":false)"))));
  const size_t published = port_->published().size();
  EXPECT_EQ(Exchange(client, R"(2/secure,1["publish","lobby","chat",1])"),
            (std::vector<std::string>{R"(3/secure,1[{"error":"publishing is not allowed"}])"}));
  Exchange(client, R"(2/secure,["chat","relayed?"])");
  EXPECT_EQ(port_->published().size(), published) << "nothing reached the broker";

  Client allowed = NewClient();
  Connect(allowed, "/secure", AuthPayload(Token(ValidClaims(R"(,"publish":true)"))));
  Exchange(allowed, R"(2/secure,["chat","relayed"])");
  ASSERT_EQ(port_->published().size(), published + 1);
  EXPECT_EQ(port_->published().back().envelope.event(), "chat");
}

TEST_F(ConnectionAuthTest, PublishFollowsTheJoinPatternAndThePublishClaim) {
  Client client = NewClient();
  Connect(client, "/secure", AuthPayload(Token(ValidClaims(R"(,"publish":["^team-.*$"])"))));
  const size_t published = port_->published().size();
  // Outside the namespace's publish regex (its join regex: no `publish` key).
  EXPECT_EQ(Exchange(client, R"(2/secure,1["publish","staff-only","chat",1])"),
            (std::vector<std::string>{
                R"(3/secure,1[{"error":"publishing to this room is not allowed"}])"}));
  // Inside it, but outside the token's publish list.
  EXPECT_EQ(Exchange(client, R"(2/secure,2["publish","lobby","chat",1])"),
            (std::vector<std::string>{
                R"(3/secure,2[{"error":"publishing to this room is not allowed"}])"}));
  EXPECT_EQ(port_->published().size(), published) << "nothing reached the broker";
  EXPECT_EQ(shard_->stats().publishes_refused, 2u);
  Exchange(client, R"(2/secure,3["publish","team-a","chat",1])");
  ASSERT_EQ(port_->published().size(), published + 1);
  EXPECT_EQ(port_->published().back().envelope.rooms(0), "team-a");
}

TEST_F(ConnectionAuthTest, NoClientPublishesIntoASocketsIdRoom) {
  Client victim = NewClient();
  const std::string victim_id = Connect(victim, "/");
  Client attacker = NewClient();
  const std::string attacker_id = Connect(attacker, "/");
  const size_t published = port_->published().size();
  for (const std::string& room : {victim_id, attacker_id}) {
    EXPECT_EQ(
        Exchange(attacker, absl::StrCat(R"(21["publish",")", room, R"(","auth-result",{}])")),
        (std::vector<std::string>{R"(31[{"error":"publishing to this room is not allowed"}])"}));
  }
  EXPECT_EQ(port_->published().size(), published);
}

TEST_F(ConnectionAuthTest, ASessionRecoversOnlyForATokenOfTheSameSubject) {
  const std::string sid = "RecoveredSocketI" + auth::SocketIdCheck("RecoveredSocketI");
  auto session = [&](const std::string& subject) {
    bridge::Recovery recovery;
    recovery.session.set_pid("pid-1");
    recovery.session.set_namespace_("/kept");
    recovery.session.set_socket_id(sid);
    recovery.session.add_rooms(sid);
    recovery.session.set_epoch(1);
    recovery.session.set_subject(subject);
    return recovery;
  };
  const std::string connect = absl::StrCat(R"(0/kept,{"token":")", Token(ValidClaims()),
                                           R"(","pid":"pid-1","offset":"1-5"})");
  // Saved for "mallory"; the new token is alice's: a fresh session.
  Client other = NewClient();
  other.Send(connect);
  Confirm();
  port_->AnswerRecover(session("mallory"));
  Confirm();
  Confirm();  // the fresh socket's own room
  std::vector<std::string> sent = other.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].find(sid), std::string::npos) << sent[0];
  // Saved for alice: recovered, same id and pid.
  Client same = NewClient();
  same.Send(connect);
  Confirm();
  port_->AnswerRecover(session("alice"));
  Confirm();
  EXPECT_EQ(
      same.Take(),
      (std::vector<std::string>{absl::StrCat(R"(0/kept,{"sid":")", sid, R"(","pid":"pid-1"})")}));
}

TEST_F(ConnectionAuthTest, ASavedSessionCarriesTheTokenSubject) {
  Client client = NewClient();
  client.Send(absl::StrCat(R"(0/kept,{"token":")", Token(ValidClaims()), R"("})"));
  Confirm();
  ASSERT_EQ(client.Take().size(), 1u);
  client.connection->OnClose("transport close");
  ASSERT_EQ(port_->saved().size(), 1u);
  EXPECT_EQ(port_->saved()[0].session.subject(), "alice");
}

// A socket does not outlive its token: at `exp` + leeway (5 s) it is
// disconnected with reason "token expired", counted, and (in a namespace with
// recovery) saved, so a reconnect with a fresh token of the same subject gets
// it back.
TEST_F(ConnectionAuthTest, ASocketIsDisconnectedWhenItsTokenExpires) {
  Client client = NewClient();
  Connect(client, "/secure", AuthPayload(Token(ValidClaims())));  // exp = now + 600 s
  Client kept = NewClient();
  kept.Send(absl::StrCat(R"(0/kept,{"token":")", Token(ValidClaims()), R"("})"));
  Confirm();
  ASSERT_EQ(kept.Take().size(), 1u);

  timers_.Advance(std::chrono::seconds(604));
  io_.restart();
  io_.poll();
  EXPECT_TRUE(client.Take().empty()) << "still inside the leeway";
  timers_.Advance(std::chrono::seconds(1));
  io_.restart();
  io_.poll();
  EXPECT_EQ(client.Take(), std::vector<std::string>{"1/secure,"});
  EXPECT_EQ(kept.Take(), std::vector<std::string>{"1/kept,"});
  EXPECT_EQ(shard_->stats().disconnects["token expired"], 2u);
  ASSERT_EQ(port_->saved().size(), 1u);
  EXPECT_EQ(port_->saved()[0].session.namespace_(), "/kept");
  EXPECT_EQ(port_->saved()[0].session.subject(), "alice");
  // The socket is gone: its events are refused as for any unknown namespace.
  EXPECT_EQ(Exchange(client, R"(2/secure,["join","lobby"])").size(), 0u);
}

TEST_F(ConnectionAuthTest, NoClientJoinsAnotherSocketsIdRoom) {
  Client victim = NewClient();
  const std::string victim_id = Connect(victim, "/");
  Client attacker = NewClient();
  const std::string attacker_id = Connect(attacker, "/");
  ASSERT_NE(victim_id, attacker_id);
  // "/" lets clients join '.*', yet the victim's own room is refused...
  EXPECT_EQ(Exchange(attacker, absl::StrCat(R"(21["join",")", victim_id, R"("])")),
            (std::vector<std::string>{R"(31[{"error":"joining this room is not allowed"}])"}));
  // ...as is any name that verifies as an issued id, though no local socket
  // has it (it may be a socket on another gateway).
  const std::string remote_id = "ABCDEFGHIJKLMNOP" + auth::SocketIdCheck("ABCDEFGHIJKLMNOP");
  ASSERT_TRUE(auth::IsIssuedSocketId(remote_id));
  EXPECT_EQ(Exchange(attacker, absl::StrCat(R"(22["join",")", remote_id, R"("])")),
            (std::vector<std::string>{R"(32[{"error":"joining this room is not allowed"}])"}));
  // Its own id room and ordinary names stay fine.
  EXPECT_EQ(Exchange(attacker, absl::StrCat(R"(23["join",")", attacker_id, R"("])")),
            (std::vector<std::string>{R"(33[{"ok":true}])"}));
  EXPECT_EQ(Exchange(attacker, R"(24["join","ABCDEFGHIJKLMNOPQRS"])"),
            (std::vector<std::string>{R"(34[{"ok":true}])"}));
  // A delivery to the victim's room reaches the victim only.
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/");
  envelope.add_rooms(victim_id);
  envelope.set_event("private");
  envelope.set_args("[1]");
  shard_->OnDispatch(MakeDispatch(std::move(envelope)));
  io_.restart();
  io_.poll();
  EXPECT_EQ(victim.Take(), (std::vector<std::string>{R"(2["private",1])"}));
  EXPECT_TRUE(attacker.Take().empty());
}

TEST_F(ConnectionAuthTest, TwentyCharacterNamesThatAreNotSocketIdsAreOrdinaryRooms) {
  // Shaped like a socket id (20 characters of [A-Za-z0-9_-]) but not one:
  // joinable, and a delivery to the room reaches its members.
  Client first = NewClient();
  Connect(first, "/");
  Client second = NewClient();
  Connect(second, "/");
  int ack = 0;
  for (const std::string room :
       {"internationalization", "ABCDEFGHIJKLMNOPQRST", "QpZ3xR7mN2kL9vB4tY6w"}) {
    for (Client* client : {&first, &second}) {
      ++ack;
      EXPECT_EQ(Exchange(*client, absl::StrCat("2", ack, R"(["join",")", room, R"("])")),
                (std::vector<std::string>{absl::StrCat("3", ack, R"([{"ok":true}])")}))
          << room;
    }
    const auto* members = shard_->rooms().Members("/", room);
    ASSERT_NE(members, nullptr) << room;
    EXPECT_EQ(members->size(), 2u) << room;
  }
  v1::Envelope envelope;
  envelope.set_kind(v1::KIND_EVENT);
  envelope.set_channel(v1::CHANNEL_ROOMS);
  envelope.set_namespace_("/");
  envelope.add_rooms("internationalization");
  envelope.set_event("hello");
  envelope.set_args("[1]");
  shard_->OnDispatch(MakeDispatch(std::move(envelope)));
  io_.restart();
  io_.poll();
  EXPECT_EQ(first.Take(), (std::vector<std::string>{R"(2["hello",1])"}));
  EXPECT_EQ(second.Take(), (std::vector<std::string>{R"(2["hello",1])"}));
}

TEST_F(ConnectionAuthTest, SenderIdentityComesFromTheGateway) {
  Client client = NewClient();
  const std::string sid = Connect(client, "/");
  // Envelope-looking fields in the args are opaque data.
  Exchange(client, R"(2["publish","room-x","chat",{"except_socket":"someone","socket_id":"x"}])");
  ASSERT_FALSE(port_->published().empty());
  const v1::Envelope& envelope = port_->published().back().envelope;
  EXPECT_EQ(envelope.except_socket(), sid);
  EXPECT_EQ(envelope.args(), R"([{"except_socket":"someone","socket_id":"x"}])");
}

}  // namespace
}  // namespace roomq::gateway::socketio
