// The `roomq` CLI binary end to end: `roomq sub` and `roomq pub` spawned as
// processes against the real broker; their output parsed.
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "roomq/client.h"
#include "simdjson.h"
#include "tests/support/binaries.h"
#include "tests/support/broker_process.h"

namespace roomq {
namespace {

using std::chrono::milliseconds;
using test_support::ChildProcess;
using test_support::Stream;

const std::regex kReady("roomq sub: ready");
const std::regex kAnyJsonLine("^\\{");

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = test_support::StartBroker();
    ASSERT_TRUE(broker.ok()) << broker.status();
    broker_ = std::move(*broker);
  }

  std::vector<std::string> Endpoints() const {
    return {"--broker-pub", broker_.pub_endpoint, "--broker-sub=" + broker_.sub_endpoint};
  }

  std::unique_ptr<ChildProcess> Start(std::vector<std::string> args, bool pipe_stdin = false) {
    test_support::ChildOptions options;
    options.name = "roomq " + args.front();
    options.pipe_stdin = pipe_stdin;
    auto child = ChildProcess::Start(test_support::BinaryPath("roomq"), args, options);
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? std::move(*child) : nullptr;
  }

  std::unique_ptr<ChildProcess> StartSub(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"sub"};
    for (auto& arg : Endpoints()) args.push_back(arg);
    for (auto& arg : flags) args.push_back(arg);
    auto sub = Start(args);
    if (sub == nullptr) return nullptr;
    auto ready = sub->WaitForLine(kReady, milliseconds(5000), Stream::kStderr);
    EXPECT_TRUE(ready.ok()) << ready.status();
    return sub;
  }

  // Runs `roomq pub` to completion; returns its exit status.
  test_support::ExitStatus Pub(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"pub"};
    for (auto& arg : Endpoints()) args.push_back(arg);
    for (auto& arg : flags) args.push_back(arg);
    auto pub = Start(args);
    if (pub == nullptr) return {};
    auto status = pub->Wait(milliseconds(8000));
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? *status : test_support::ExitStatus{};
  }

  test_support::BrokerProcess broker_;
};

// Parses a `roomq sub` line; fails the test when it is not the JSON promised.
struct Line {
  std::string ns, event, args;
  std::vector<std::string> rooms, attachments;
};

Line ParseLine(const std::string& text) {
  Line line;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  if (!doc.is_object()) return line;
  std::string_view value;
  if (doc["namespace"].get(value) == simdjson::SUCCESS) line.ns = value;
  if (doc["event"].get(value) == simdjson::SUCCESS) line.event = value;
  simdjson::dom::array rooms;
  if (doc["rooms"].get(rooms) == simdjson::SUCCESS) {
    for (auto room : rooms) line.rooms.emplace_back(std::string_view(room));
  }
  simdjson::dom::array attachments;
  if (doc["attachments"].get(attachments) == simdjson::SUCCESS) {
    for (auto a : attachments) line.attachments.emplace_back(std::string_view(a));
  }
  simdjson::dom::element args;
  if (doc["args"].get(args) == simdjson::SUCCESS) line.args = simdjson::minify(args);
  return line;
}

TEST_F(CliIntegrationTest, SubPrintsOneJsonLinePerPublishedEvent) {
  auto sub = StartSub({"--ns", "/chat", "--room", "general"});
  ASSERT_NE(sub, nullptr);
  const auto pub = Pub({"--ns", "/chat", "--room", "general", "--event", "chat message",
                        R"({"text":"hi \"you\""})", "2", R"("two")"});
  ASSERT_TRUE(pub.exited_ok()) << pub.ToString();
  auto text = sub->WaitForLine(kAnyJsonLine, milliseconds(5000), Stream::kStdout);
  ASSERT_TRUE(text.ok()) << text.status();
  const Line line = ParseLine(*text);
  EXPECT_EQ(line.ns, "/chat");
  EXPECT_EQ(line.rooms, std::vector<std::string>{"general"});
  EXPECT_EQ(line.event, "chat message");
  EXPECT_EQ(line.args, R"([{"text":"hi \"you\""},2,"two"])");
  EXPECT_TRUE(line.attachments.empty());
  // Args are inserted exactly as published.
  EXPECT_NE(text->find(R"("args":[{"text":"hi \"you\""},2,"two"])"), std::string::npos) << *text;
}

TEST_F(CliIntegrationTest, SubSeesOnlyItsExactTopic) {
  auto sub = StartSub({"--ns", "/chat", "--room", "a"});
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(Pub({"--ns", "/chat", "--room", "ab", "1"}).exited_ok());
  ASSERT_TRUE(Pub({"--ns", "/chatx", "--room", "a", "2"}).exited_ok());
  ASSERT_TRUE(Pub({"--ns", "/chat", "--room", "a", "3"}).exited_ok());
  auto text = sub->WaitForLine(kAnyJsonLine, milliseconds(5000), Stream::kStdout);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(ParseLine(*text).args, "[3]");
  EXPECT_EQ(sub->CountLines(kAnyJsonLine, Stream::kStdout), 1);
}

// Socket ids may start with '-' (a service addressing one socket passes
// one to --room): the id is the room, not a flag.
TEST_F(CliIntegrationTest, RoomsStartingWithADashAreRooms) {
  auto sub = StartSub({"--ns", "/chat", "--room", "-c9PRAcdvx1qbE4IHa7Y"});
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(Pub({"--ns", "/chat", "--room", "-c9PRAcdvx1qbE4IHa7Y", "--event", "direct", "1"})
                  .exited_ok());
  auto text = sub->WaitForLine(kAnyJsonLine, milliseconds(5000), Stream::kStdout);
  ASSERT_TRUE(text.ok()) << text.status();
  const Line line = ParseLine(*text);
  EXPECT_EQ(line.rooms, std::vector<std::string>{"-c9PRAcdvx1qbE4IHa7Y"});
  EXPECT_EQ(line.event, "direct");
}

TEST_F(CliIntegrationTest, PubWithoutArgsPublishesEachStdinLine) {
  auto sub = StartSub({"--ns", "/chat"});  // namespace-wide only
  ASSERT_NE(sub, nullptr);
  std::vector<std::string> args = {"pub"};
  for (auto& arg : Endpoints()) args.push_back(arg);
  args.insert(args.end(), {"--ns", "/chat", "--event", "line"});
  auto pub = Start(args, /*pipe_stdin=*/true);
  ASSERT_NE(pub, nullptr);
  ASSERT_TRUE(pub->WriteStdin("{\"n\":1}\n\n\"two\"\n[3]\n").ok());
  pub->CloseStdin();
  auto status = pub->Wait(milliseconds(8000));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->exited_ok()) << status->ToString();
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    auto text = sub->WaitForLine(kAnyJsonLine, milliseconds(5000), Stream::kStdout);
    ASSERT_TRUE(text.ok()) << text.status();
    const Line line = ParseLine(*text);
    EXPECT_TRUE(line.rooms.empty());
    EXPECT_EQ(line.event, "line");
    got.push_back(line.args);
  }
  EXPECT_EQ(got, (std::vector<std::string>{R"([{"n":1}])", R"(["two"])", "[[3]]"}));
}

TEST_F(CliIntegrationTest, PubStdinLineThatIsNotJsonFailsTheRun) {
  std::vector<std::string> args = {"pub"};
  for (auto& arg : Endpoints()) args.push_back(arg);
  auto pub = Start(args, /*pipe_stdin=*/true);
  ASSERT_NE(pub, nullptr);
  ASSERT_TRUE(pub->WriteStdin("1\nnot json\n").ok());
  pub->CloseStdin();
  auto status = pub->Wait(milliseconds(8000));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->exit_code, 1);
  EXPECT_TRUE(
      pub->WaitForLine(std::regex("line 2 is not JSON"), milliseconds(5000), Stream::kStderr).ok());
}

TEST_F(CliIntegrationTest, SubPrintsBinaryAttachmentsAsBase64) {
  auto sub = StartSub({"--ns", "/bin", "--room", "r"});
  ASSERT_NE(sub, nullptr);
  ClientOptions options;
  options.broker_pub = broker_.pub_endpoint;
  options.broker_sub = broker_.sub_endpoint;
  auto client = Client::Connect(options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(
      (*client)->Of("/bin").To("r").Emit("file", Args().String("f").Binary("\x01\x02\xff")).ok());
  auto text = sub->WaitForLine(kAnyJsonLine, milliseconds(5000), Stream::kStdout);
  ASSERT_TRUE(text.ok()) << text.status();
  const Line line = ParseLine(*text);
  EXPECT_EQ(line.args, R"(["f",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(line.attachments, std::vector<std::string>{"AQL/"});
}

TEST_F(CliIntegrationTest, SubKeepsReceivingAcrossBrokerRestart) {
  auto sub = StartSub({"--ns", "/chat", "--room", "general"});
  ASSERT_NE(sub, nullptr);
  broker_.process->Kill();
  auto restarted = test_support::StartBroker(broker_.SameEndpoints());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  broker_ = std::move(*restarted);
  // pub exits 0 once the broker confirmed; the subscriber may still be
  // resubscribing, so publish until a line shows up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  bool delivered = false;
  for (int i = 0; !delivered && std::chrono::steady_clock::now() < deadline; ++i) {
    ASSERT_TRUE(Pub({"--ns", "/chat", "--room", "general", std::to_string(i)}).exited_ok());
    delivered = sub->WaitForLine(kAnyJsonLine, milliseconds(300), Stream::kStdout).ok();
  }
  EXPECT_TRUE(delivered);
}

TEST_F(CliIntegrationTest, SubExitsZeroOnSigintAndSigterm) {
  for (int signal : {SIGINT, SIGTERM}) {
    auto sub = StartSub({"--ns", "/chat"});
    ASSERT_NE(sub, nullptr);
    ASSERT_TRUE(sub->Signal(signal).ok());
    auto status = sub->Wait(milliseconds(5000));
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_TRUE(status->exited_ok()) << status->ToString();
  }
}

TEST_F(CliIntegrationTest, PubFailsClearlyWhenTheBrokerDoesNotConfirm) {
  broker_.process->Kill();
  auto pub = Start({"pub", "--broker-pub", broker_.pub_endpoint, "--timeout-ms", "300", "1"});
  ASSERT_NE(pub, nullptr);
  auto status = pub->Wait(milliseconds(5000));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->exit_code, 1) << status->ToString();
  EXPECT_TRUE(pub->WaitForLine(std::regex("did not confirm 1 of 1 event"), milliseconds(5000),
                               Stream::kStderr)
                  .ok());
}

struct UsageCase {
  std::vector<std::string> args;
  int exit_code;
  const char* expected;  // regex on the stream the text goes to
  Stream stream;
};

TEST_F(CliIntegrationTest, UsageAndErrors) {
  const std::vector<UsageCase> cases = {
      {{"pub", "--bogus"}, 2, "unknown flag --bogus", Stream::kStderr},
      {{"pub", "--bogus"}, 2, "Usage: roomq pub", Stream::kStderr},
      {{"sub", "--room"}, 2, "--room: 1 required ROOM missing", Stream::kStderr},
      {{"sub", "extra"}, 2, "unexpected argument", Stream::kStderr},
      {{"pub", "not-json"}, 2, "argument 1 is not JSON", Stream::kStderr},
      {{"pub", "--ns", "chat", "1"}, 2, "namespace must start with", Stream::kStderr},
      {{"pub", "--timeout-ms", "soon", "1"},
       2,
       "--timeout-ms: not a whole number: soon",
       Stream::kStderr},
      {{"frobnicate"}, 2, "unknown subcommand", Stream::kStderr},
      {{}, 2, "Usage: roomq <command>", Stream::kStderr},
      {{"--help"}, 0, "Usage: roomq <command>", Stream::kStdout},
      {{"help"}, 0, "pub +Publish", Stream::kStdout},
      {{"pub", "--help"}, 0, "Skip sockets in this room. \\(ROOM, repeatable\\)", Stream::kStdout},
      {{"sub", "-h"},
       0,
       "subscribe endpoint .*\\(ENDPOINT\\[,ENDPOINT\\], default: tcp://127.0.0.1:5556\\)",
       Stream::kStdout},
  };
  for (const UsageCase& c : cases) {
    test_support::ChildOptions options;
    options.name = "roomq";
    auto child = ChildProcess::Start(test_support::BinaryPath("roomq"), c.args, options);
    ASSERT_TRUE(child.ok());
    auto status = (*child)->Wait(milliseconds(5000));
    ASSERT_TRUE(status.ok());
    const std::string joined = c.args.empty() ? "(none)" : c.args.front();
    EXPECT_EQ(status->exit_code, c.exit_code) << joined;
    // Wait() can return before the reader thread saw the last lines.
    EXPECT_TRUE((*child)->WaitForLine(std::regex(c.expected), milliseconds(5000), c.stream).ok())
        << joined << " " << c.expected;
  }
}

}  // namespace
}  // namespace roomq
