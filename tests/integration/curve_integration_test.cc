// CURVE between nodes and the real roomq-broker binary: keys made by
// `roomq keygen`, the broker started with --curve-secret-key and
// --curve-clients, nodes connecting through node::Link (the code path of
// the gateway, the CLI and roomq-echo) and through the CLI itself.

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "proto/node/curve.h"
#include "proto/node/link.h"
#include "proto/roomq.pb.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"
#include "tests/support/child_process.h"
#include "tests/support/free_port.h"
#include "tests/support/http_scrape.h"

namespace roomq {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using test_support::BinaryPath;
using test_support::ChildProcess;
using test_support::HttpGet;
using test_support::PrometheusSample;

constexpr milliseconds kTimeout{5000};

// A Link and what reached it.
struct Node {
  std::unique_ptr<node::Link> link;
  std::vector<std::string> events;  // event names delivered, in order
};

class CurveIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "curve_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(root_ + "/clients");
    // Keys made the documented way: `roomq keygen NAME`.
    for (const char* name : {"broker", "alice", "mallory"}) Keygen(root_ + "/" + name);
    fs::copy_file(root_ + "/alice.pub", root_ + "/clients/alice.pub");
    test_support::BrokerOptions options;
    options.extra_args = {"--curve-secret-key=" + root_ + "/broker.key",
                          "--curve-clients=" + root_ + "/clients", "--heartbeat-ms=200",
                          "--metrics-bind=127.0.0.1:0"};
    auto broker = test_support::StartBroker(options);
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
    // Logged before the "listening" line StartBroker waited for.
    EXPECT_EQ(broker_.process->CountLines(std::regex("curve on clients=1 server_key=")), 1);
    metrics_port_ = broker_.metrics_port();
    ASSERT_NE(metrics_port_, 0) << "no metrics line";
  }

  // Scrapes /metrics until `name` reads at least `at_least` (the counters
  // are read live from the ZAP handler, which may still be answering);
  // returns the last body.
  std::string ScrapeUntilAtLeast(const std::string& name, double at_least) {
    std::string body;
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      body = HttpGet(metrics_port_, "/metrics");
      if (PrometheusSample(body, name).value_or(-1) >= at_least) return body;
      PollUntil([] { return false; }, milliseconds(20));
    }
    ADD_FAILURE() << name << " never reached " << at_least << ":\n" << body;
    return body;
  }

  void TearDown() override {
    nodes_.clear();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  void Keygen(const std::string& base) {
    auto keygen = ChildProcess::Start(BinaryPath("roomq"), {"keygen", base});
    ASSERT_TRUE(keygen.ok()) << keygen.status();
    auto status = (*keygen)->Wait(kTimeout);
    ASSERT_TRUE(status.ok() && status->exited_ok()) << base;
    struct stat st {};
    ASSERT_EQ(::stat((base + ".key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the secret key file is private";
    ASSERT_TRUE(fs::exists(base + ".pub"));
  }

  node::CurveClientOptions Curve(const std::string& name) {
    auto curve = node::LoadCurveClientOptions(root_ + "/broker.pub", root_ + "/" + name + ".key");
    EXPECT_TRUE(curve.ok()) << curve.status();
    return curve.ok() ? *curve : node::CurveClientOptions{};
  }

  std::string PublicKey(const std::string& name) {
    auto key = node::LoadCurvePublicKey(root_ + "/" + name + ".pub");
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *key : "";
  }

  // `receipt_timeout`: how long a Subscribe/Publish waits for the broker.
  // An allowed node's first one also waits out the CURVE handshake and the
  // ZAP round trip, which a loaded ASan run can stretch past a second; the
  // nodes the broker refuses pass a short one, since their Unavailable is
  // what their tests wait for.
  // `brokers`: the brokers it lists (a failover pair's two); none = the
  // fixture's broker.
  Node& AddNode(node::CurveClientOptions curve, milliseconds receipt_timeout = milliseconds(4000),
                const std::vector<const test_support::BrokerProcess*>& brokers = {}) {
    auto node = std::make_unique<Node>();
    node::LinkOptions options;
    options.pub_endpoint = broker_.pub_endpoint;
    options.sub_endpoint = broker_.sub_endpoint;
    if (!brokers.empty()) {
      std::vector<std::string> pubs, subs;
      for (const test_support::BrokerProcess* broker : brokers) {
        pubs.push_back(broker->pub_endpoint);
        subs.push_back(broker->sub_endpoint);
      }
      options.pub_endpoint = absl::StrJoin(pubs, ",");
      options.sub_endpoint = absl::StrJoin(subs, ",");
    }
    // No silent-broker reconnect while a loaded machine holds the thread.
    options.heartbeat = milliseconds(1000);
    options.receipt_timeout = receipt_timeout;
    options.curve = std::move(curve);
    node::LinkHandlers handlers;
    Node* raw = node.get();
    handlers.on_delivery = [raw](node::Delivery& delivery) {
      raw->events.push_back(delivery.envelope.event());
    };
    auto link = node::Link::Create(context_, std::move(options), std::move(handlers));
    EXPECT_TRUE(link.ok()) << link.status();
    if (link.ok()) node->link = *std::move(link);
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }

  // Polls every node until `done` or the deadline.
  bool PollUntil(const std::function<bool()>& done, milliseconds timeout = kTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      for (auto& node : nodes_) {
        if (node->link) {
          EXPECT_TRUE(node->link->Poll(milliseconds(5)).ok());
        }
      }
    }
    return true;
  }

  static v1::Envelope Event(const std::string& name) {
    v1::Envelope envelope;
    envelope.set_kind(v1::KIND_EVENT);
    envelope.set_channel(v1::CHANNEL_ROOMS);
    envelope.set_namespace_("/");
    envelope.add_rooms("room");
    envelope.set_event(name);
    envelope.set_args("[]");
    return envelope;
  }

  // Subscribes `node` to ("/", "room"); returns the Reply's status (or
  // Unavailable after receipt_timeout).
  absl::Status SubscribeAndWait(Node& node) {
    std::optional<absl::Status> result;
    node.link->Subscribe(wire::RoomTopic("/", "room"), [&](const absl::Status& s) { result = s; });
    if (!PollUntil([&] { return result.has_value(); })) return absl::DeadlineExceededError("none");
    return *result;
  }

  // Publishes with a receipt; the receipt's verdict (or Unavailable).
  absl::Status PublishAndWait(Node& node, const std::string& event) {
    std::optional<absl::Status> result;
    absl::Status sent =
        node.link->Publish(Event(event), [&](absl::StatusOr<v1::PublishReceipt> receipt) {
          if (!receipt.ok()) {
            result = receipt.status();
          } else {
            result = receipt->accepted() ? absl::OkStatus() : absl::InternalError(receipt->error());
          }
        });
    if (!sent.ok()) return sent;
    if (!PollUntil([&] { return result.has_value(); })) return absl::DeadlineExceededError("none");
    return *result;
  }

  std::string root_;
  test_support::BrokerProcess broker_;
  int metrics_port_ = 0;
  zmq::context_t context_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(CurveIntegrationTest, AnAllowedClientPublishesAndSubscribes) {
  Node& subscriber = AddNode(Curve("alice"));
  ASSERT_TRUE(SubscribeAndWait(subscriber).ok());
  Node& publisher = AddNode(Curve("alice"));
  ASSERT_TRUE(PublishAndWait(publisher, "hello").ok());
  ASSERT_TRUE(PollUntil([&] { return !subscriber.events.empty(); }));
  EXPECT_EQ(subscriber.events, std::vector<std::string>{"hello"});
  EXPECT_TRUE(subscriber.link->broker_connected());
}

TEST_F(CurveIntegrationTest, AnUnknownKeyGetsNothingThroughAndIsCountedAndLogged) {
  Node& subscriber = AddNode(Curve("alice"));
  ASSERT_TRUE(SubscribeAndWait(subscriber).ok());

  Node& intruder = AddNode(Curve("mallory"), milliseconds(1000));
  // Neither its subscription nor its publish is answered: the broker never
  // lets its connections past the handshake.
  EXPECT_TRUE(absl::IsUnavailable(SubscribeAndWait(intruder)));
  // Unavailable (no receipt) or ResourceExhausted (libzmq dropped the
  // refused connection's pipe, nothing queues): either way, not accepted.
  const absl::Status published = PublishAndWait(intruder, "intruder");
  EXPECT_TRUE(absl::IsUnavailable(published) || absl::IsResourceExhausted(published)) << published;
  EXPECT_FALSE(intruder.link->broker_connected());
  ASSERT_TRUE(broker_.process
                  ->WaitForLine(std::regex("curve refused reason=unknown_key key=" +
                                           std::regex_replace(PublicKey("mallory"),
                                                              std::regex(R"([.^$|()\[\]{}*+?\\])"),
                                                              R"(\$&)") +
                                           " address=127\\.0\\.0\\.1"),
                                kTimeout)
                  .ok());

  // Traffic of allowed nodes goes on, and the intruder sees none of it.
  Node& publisher = AddNode(Curve("alice"));
  ASSERT_TRUE(PublishAndWait(publisher, "legit").ok());
  ASSERT_TRUE(PollUntil([&] { return !subscriber.events.empty(); }));
  EXPECT_EQ(subscriber.events, std::vector<std::string>{"legit"});
  EXPECT_TRUE(intruder.events.empty());

  // The counters, on /metrics: 2 sockets x 2 allowed links accepted, both
  // intruder sockets refused at least once, no handshake failure.
  const std::string metrics =
      ScrapeUntilAtLeast("roomq_broker_curve_auth_total{result=\"refused\"}", 2);
  EXPECT_NE(metrics.find("# TYPE roomq_broker_curve_auth_total counter"), std::string::npos);
  EXPECT_GE(
      PrometheusSample(metrics, "roomq_broker_curve_auth_total{result=\"accepted\"}").value_or(-1),
      4)
      << metrics;
  EXPECT_EQ(PrometheusSample(metrics, "roomq_broker_curve_handshake_failures_total"), 0) << metrics;

  // The counters, on the shutdown line.
  ASSERT_TRUE(broker_.process->Signal(SIGTERM).ok());
  auto stopped = broker_.process->WaitForLine(
      std::regex(R"(curve stopped accepted=([0-9]+) refused=([0-9]+) handshake_failed=0)"),
      kTimeout);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  std::smatch counts;
  ASSERT_TRUE(
      std::regex_search(*stopped, counts, std::regex(R"(accepted=([0-9]+) refused=([0-9]+))")));
  EXPECT_GE(std::stoi(counts[1]), 4);  // 2 sockets x 2 allowed links
  EXPECT_GE(std::stoi(counts[2]), 2);  // both intruder sockets, at least once
}

TEST_F(CurveIntegrationTest, AClientWithoutCurveGetsNothingThroughAndIsCounted) {
  Node& subscriber = AddNode(Curve("alice"));
  ASSERT_TRUE(SubscribeAndWait(subscriber).ok());
  Node& plain = AddNode(node::CurveClientOptions{}, milliseconds(1000));
  const absl::Status published = PublishAndWait(plain, "plain");
  EXPECT_TRUE(absl::IsUnavailable(published) || absl::IsResourceExhausted(published)) << published;
  // Both sockets refuse it: a mechanism mismatch, or (libzmq's report
  // depends on how far the greeting got) a failure without detail.
  for (const char* socket : {"pub", "sub"}) {
    const std::regex refused(std::string("curve handshake failed socket=") + socket +
                             " reason=(mechanism_mismatch|no_detail)");
    EXPECT_TRUE(PollUntil([&] { return broker_.process->CountLines(refused) > 0; })) << socket;
  }
  Node& publisher = AddNode(Curve("alice"));
  ASSERT_TRUE(PublishAndWait(publisher, "legit").ok());
  ASSERT_TRUE(PollUntil([&] { return !subscriber.events.empty(); }));
  EXPECT_EQ(subscriber.events, std::vector<std::string>{"legit"});
  EXPECT_TRUE(plain.events.empty());
  // On /metrics: no ZAP refusal (it never got that far), handshake failures.
  const std::string metrics = ScrapeUntilAtLeast("roomq_broker_curve_handshake_failures_total", 2);
  EXPECT_EQ(PrometheusSample(metrics, "roomq_broker_curve_auth_total{result=\"refused\"}"), 0)
      << metrics;
  EXPECT_GE(
      PrometheusSample(metrics, "roomq_broker_curve_auth_total{result=\"accepted\"}").value_or(-1),
      4)
      << metrics;

  ASSERT_TRUE(broker_.process->Signal(SIGTERM).ok());
  EXPECT_TRUE(
      broker_.process
          ->WaitForLine(
              std::regex(R"(curve stopped accepted=[0-9]+ refused=0 handshake_failed=[1-9])"),
              kTimeout)
          .ok());
}

TEST_F(CurveIntegrationTest, TheCliPublishesWithItsCurveFlags) {
  Node& subscriber = AddNode(Curve("alice"));
  ASSERT_TRUE(SubscribeAndWait(subscriber).ok());
  auto pub = ChildProcess::Start(
      BinaryPath("roomq"),
      {"pub", "--broker-pub=" + broker_.pub_endpoint, "--broker-sub=" + broker_.sub_endpoint,
       "--curve-server-key=" + root_ + "/broker.pub", "--curve-secret-key=" + root_ + "/alice.key",
       "--room=room", "--event=from-cli", "1"});
  ASSERT_TRUE(pub.ok()) << pub.status();
  ASSERT_TRUE(PollUntil([&] { return !subscriber.events.empty(); }));
  EXPECT_EQ(subscriber.events, std::vector<std::string>{"from-cli"});
  auto status = (*pub)->Wait(kTimeout);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(status->exited_ok()) << status->ToString();
}

// Runs `binary args...` and expects exit 2 with `expected` in its output.
void ExpectUsageError(const std::string& binary, const std::vector<std::string>& args,
                      const std::string& expected) {
  SCOPED_TRACE(binary + " " + (args.empty() ? "" : args.back()));
  auto child = ChildProcess::Start(BinaryPath(binary), args);
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE((*child)
                  ->WaitForLine(std::regex(std::regex_replace(
                                    expected, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)")),
                                kTimeout)
                  .ok())
      << "no line says: " << expected;
  auto status = (*child)->Wait(kTimeout);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->exit_code, 2) << status->ToString();
}

// A failover pair sharing the broker's key pair: the pair link is CURVE
// with that key at both ends, and the brokers settle as active and passive.
// A broker with another key cannot join the pair: its heartbeats fail the
// handshake (it expects its own key as the server's), and no state changes.
TEST_F(CurveIntegrationTest, APairSharingOneKeyTalksOverCurveAndAnotherKeyIsRefused) {
  const std::string primary_pair =
      "tcp://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort());
  const std::string backup_pair =
      "tcp://127.0.0.1:" + std::to_string(test_support::FreeLoopbackPort());
  auto start = [&](const char* role, const std::string& own, const std::string& peer,
                   const std::string& key) {
    test_support::BrokerOptions options;
    options.extra_args = {"--curve-secret-key=" + root_ + "/" + key + ".key",
                          "--curve-clients=" + root_ + "/clients",
                          std::string("--pair-role=") + role,
                          "--pair-bind=" + own,
                          "--pair-peer=" + peer,
                          "--pair-heartbeat-ms=100"};
    options.child.name = role;
    auto broker = test_support::StartBroker(options);
    EXPECT_TRUE(broker.ok()) << broker.status();
    return broker.ok() ? std::move(*broker) : test_support::BrokerProcess{};
  };
  {
    test_support::BrokerProcess intruder = start("backup", backup_pair, primary_pair, "mallory");
    test_support::BrokerProcess primary = start("primary", primary_pair, backup_pair, "broker");
    ASSERT_TRUE(intruder.process && primary.process);
    ASSERT_TRUE(
        primary.process->WaitForLine(std::regex("curve handshake failed socket=pair"), kTimeout)
            .ok());
    EXPECT_EQ(primary.process->CountLines(std::regex("pair: starting-primary -> ")), 0);
    primary.process->Kill();
    intruder.process->Kill();
  }
  test_support::BrokerProcess primary = start("primary", primary_pair, backup_pair, "broker");
  test_support::BrokerProcess backup = start("backup", backup_pair, primary_pair, "broker");
  ASSERT_TRUE(primary.process && backup.process);
  EXPECT_TRUE(
      primary.process->WaitForLine(std::regex("pair: starting-primary -> active"), kTimeout).ok());
  EXPECT_TRUE(
      backup.process->WaitForLine(std::regex("pair: starting-backup -> passive"), kTimeout).ok());
  // Nodes trust the one server key whichever broker they reach: one that
  // lists the backup first gets through its handshake, is told standby and
  // moves on to the primary, which serves it.
  Node& node = AddNode(Curve("alice"), milliseconds(4000), {&backup, &primary});
  EXPECT_TRUE(SubscribeAndWait(node).ok());
  EXPECT_GE(node.link->stats().standby, 1u);
  EXPECT_TRUE(PublishAndWait(node, "through the pair").ok());
  EXPECT_TRUE(PollUntil([&] { return node.events.size() == 1; }));
  nodes_.clear();
  primary.process->Kill();
  backup.process->Kill();
}

TEST_F(CurveIntegrationTest, BadKeyFilesAreAClearErrorAndExit2) {
  const std::string garbage = root_ + "/garbage.key";
  std::ofstream(garbage) << "# not a key\nthis is not a z85 key\n";
  const std::string empty_dir = root_ + "/empty";
  fs::create_directories(empty_dir);
  const std::string bad_clients = root_ + "/bad-clients";
  fs::create_directories(bad_clients);
  std::ofstream(bad_clients + "/x.pub") << "short\n";
  const std::string clients = "--curve-clients=" + root_ + "/clients";
  const std::vector<std::string> binds = {"--pub-bind=tcp://127.0.0.1:*",
                                          "--sub-bind=tcp://127.0.0.1:*"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.begin(), binds.begin(), binds.end());
    return args;
  };
  ExpectUsageError("roomq-broker", with({"--curve-secret-key=" + garbage, clients}),
                   "CURVE key file " + garbage + ": a key is 40 Z85 characters");
  ExpectUsageError("roomq-broker", with({"--curve-secret-key=" + root_ + "/missing.key", clients}),
                   root_ + "/missing.key");
  ExpectUsageError(
      "roomq-broker",
      with({"--curve-secret-key=" + root_ + "/broker.key", "--curve-clients=" + empty_dir}),
      "no *.pub key file");
  ExpectUsageError(
      "roomq-broker",
      with({"--curve-secret-key=" + root_ + "/broker.key", "--curve-clients=" + bad_clients}),
      bad_clients + "/x.pub");
  ExpectUsageError("roomq-broker", with({"--curve-secret-key=" + root_ + "/broker.key"}),
                   "CURVE needs both");
  // A node's side: the CLI (the gateway and roomq-echo load the same way).
  ExpectUsageError(
      "roomq",
      {"sub", "--curve-server-key=" + root_ + "/broker.pub", "--curve-secret-key=" + garbage},
      garbage);
  ExpectUsageError("roomq", {"sub", "--curve-server-key=" + root_ + "/broker.pub"},
                   "--curve-server-key and --curve-secret-key go together");
  // keygen never overwrites a key.
  auto again = ChildProcess::Start(BinaryPath("roomq"), {"keygen", root_ + "/alice"});
  ASSERT_TRUE(again.ok());
  auto status = (*again)->Wait(kTimeout);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 1);
}

}  // namespace
}  // namespace roomq
