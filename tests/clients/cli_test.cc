// The roomq CLI's separable parts: flag parsing (CLI11 with roomq's
// conventions, proto/base/command_line.h), subcommand parsing, the JSON
// line format.
#include <variant>

#include "clients/cli/command_line.h"
#include "clients/cli/format.h"
#include "gtest/gtest.h"
#include "proto/base/json.h"

namespace roomq::cli {
namespace {

TEST(FlagsTest, ParsesEveryForm) {
  auto command = ParseCommandLine({"pub", "--event=a", "1", "--room", "x", "-room=y",
                                   "--except_room", "z", "--", "-1", "\"--not-a-flag\""});
  ASSERT_TRUE(command.ok()) << command.status();
  const auto& pub = std::get<PubCommand>(*command);
  EXPECT_EQ(pub.event, "a");
  EXPECT_EQ(pub.rooms, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(pub.except_rooms, std::vector<std::string>{"z"});
  EXPECT_EQ(pub.args, (std::vector<std::string>{"1", "-1", "\"--not-a-flag\""}));
}

TEST(FlagsTest, Errors) {
  EXPECT_EQ(ParseCommandLine({"pub", "--bogus"}).status().message(), "unknown flag --bogus");
  EXPECT_EQ(ParseCommandLine({"sub", "--bogus=1"}).status().message(), "unknown flag --bogus");
  EXPECT_FALSE(ParseCommandLine({"pub", "--event"}).ok());                 // missing value
  EXPECT_FALSE(ParseCommandLine({"pub", "--event=a", "--event=b"}).ok());  // not repeatable
  EXPECT_FALSE(ParseCommandLine({"sub", "--noroom"}).ok());                // not a boolean
  EXPECT_TRUE(std::holds_alternative<HelpCommand>(*ParseCommandLine({"sub", "-h"})));
  EXPECT_TRUE(std::holds_alternative<HelpCommand>(*ParseCommandLine({"sub", "--bogus", "--help"})));
}

TEST(FlagsTest, HelpListsFlagsWithDefaults) {
  const std::string help = PubUsage();
  EXPECT_NE(help.find("  --event\n      Event name. (NAME, default: message)"), std::string::npos)
      << help;
  EXPECT_NE(help.find("(ENDPOINT[,ENDPOINT], default: " + std::string(kDefaultBrokerPub) + ")"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("(ROOM, repeatable)"), std::string::npos);
  EXPECT_NE(help.find("(MS:>=1, default: 5000)"), std::string::npos) << help;
  EXPECT_NE(help.find("--help"), std::string::npos);
  EXPECT_NE(help.find("Exit status"), std::string::npos);
  EXPECT_NE(SubUsage().find("--from-offset"), std::string::npos);
  EXPECT_NE(KeygenUsage().find("NAME.key"), std::string::npos);
}

TEST(FlagsTest, NonNegativeIntegers) {
  auto command = ParseCommandLine({"pub", "--timeout-ms", "250"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(std::get<PubCommand>(*command).timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(ParseCommandLine({"pub", "--timeout-ms=-1"}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "--timeout-ms=12ms"}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "--timeout-ms="}).ok());
  EXPECT_FALSE(ParseCommandLine({"sub", "--from-offset=-1"}).ok());
  EXPECT_FALSE(ParseCommandLine({"sub", "--epoch=x"}).ok());
}

// A range violation is refused naming the flag and the bound.
TEST(FlagsTest, RangeViolationNamesTheFlag) {
  const auto command = ParseCommandLine({"pub", "--timeout-ms=0"});
  ASSERT_FALSE(command.ok());
  EXPECT_EQ(command.status().message(), "--timeout-ms: must be at least 1, not 0");
}

TEST(CommandLineTest, SubResumeAndEpoch) {
  auto command = ParseCommandLine({"sub", "--room=a", "--from-offset", "7", "--epoch=42"});
  ASSERT_TRUE(command.ok()) << command.status();
  const auto& sub = std::get<SubCommand>(*command);
  EXPECT_EQ(sub.from_offset, std::optional<uint64_t>(7));
  EXPECT_EQ(sub.epoch, 42u);
  EXPECT_FALSE(std::get<SubCommand>(*ParseCommandLine({"sub"})).from_offset.has_value());
  EXPECT_FALSE(ParseCommandLine({"sub", "--room=a", "--room=b", "--from-offset=0"}).ok());
}

TEST(CommandLineTest, Keygen) {
  auto command = ParseCommandLine({"keygen", "alice"});
  ASSERT_TRUE(command.ok()) << command.status();
  EXPECT_EQ(std::get<KeygenCommand>(*command).base, "alice");
  EXPECT_FALSE(ParseCommandLine({"keygen"}).ok());
  EXPECT_FALSE(ParseCommandLine({"keygen", "a", "b"}).ok());
}

TEST(CommandLineTest, PubWithEverything) {
  auto command =
      ParseCommandLine({"pub", "--ns", "/chat", "--room", "general", "--room=vip", "--except-room",
                        "muted", "--event", "chat message", "--broker-pub=tcp://h:1",
                        "--timeout-ms", "250", R"({"text":"hi"})", "2"});
  ASSERT_TRUE(command.ok()) << command.status();
  const auto& pub = std::get<PubCommand>(*command);
  EXPECT_EQ(pub.ns, "/chat");
  EXPECT_EQ(pub.rooms, (std::vector<std::string>{"general", "vip"}));
  EXPECT_EQ(pub.except_rooms, std::vector<std::string>{"muted"});
  EXPECT_EQ(pub.event, "chat message");
  EXPECT_EQ(pub.broker_pub, "tcp://h:1");
  EXPECT_EQ(pub.broker_sub, kDefaultBrokerSub);
  EXPECT_EQ(pub.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(pub.args, (std::vector<std::string>{R"({"text":"hi"})", "2"}));
}

TEST(CommandLineTest, Defaults) {
  const auto pub = std::get<PubCommand>(*ParseCommandLine({"pub"}));
  EXPECT_EQ(pub.ns, "/");
  EXPECT_EQ(pub.event, "message");
  EXPECT_TRUE(pub.rooms.empty());
  EXPECT_TRUE(pub.args.empty());  // stdin mode
  EXPECT_EQ(pub.broker_pub, kDefaultBrokerPub);
  const auto sub = std::get<SubCommand>(*ParseCommandLine({"sub"}));
  EXPECT_EQ(sub.ns, "/");
  EXPECT_TRUE(sub.rooms.empty());
}

// The library's lifecycle lines stay off a script's stderr unless asked for.
TEST(CommandLineTest, LogFlagsDefaultToWarnings) {
  const auto pub = std::get<PubCommand>(*ParseCommandLine({"pub"}));
  EXPECT_EQ(pub.log.level, base::LogLevel::kWarn);
  EXPECT_EQ(pub.log.format, base::LogFormat::kText);
  auto sub = ParseCommandLine({"sub", "--log-level", "debug", "--log-format", "json"});
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(std::get<SubCommand>(*sub).log.level, base::LogLevel::kDebug);
  EXPECT_EQ(std::get<SubCommand>(*sub).log.format, base::LogFormat::kJson);
  auto sockets = ParseCommandLine({"sockets", "--log-level=error"});
  ASSERT_TRUE(sockets.ok()) << sockets.status();
  EXPECT_EQ(std::get<SocketsCommand>(*sockets).log.level, base::LogLevel::kError);
  EXPECT_FALSE(ParseCommandLine({"pub", "--log-level", "loud"}).ok());
  EXPECT_FALSE(ParseCommandLine({"keygen", "k", "--log-level", "debug"}).ok());
}

TEST(CommandLineTest, SubRooms) {
  auto command = ParseCommandLine({"sub", "--ns=/chat", "--room", "a", "--room", "b"});
  ASSERT_TRUE(command.ok());
  EXPECT_EQ(std::get<SubCommand>(*command).rooms, (std::vector<std::string>{"a", "b"}));
}

TEST(CommandLineTest, Errors) {
  EXPECT_FALSE(ParseCommandLine({}).ok());
  EXPECT_FALSE(ParseCommandLine({"publish"}).ok());
  EXPECT_FALSE(ParseCommandLine({"--ns", "/x"}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "hello"}).ok());  // not JSON
  EXPECT_FALSE(ParseCommandLine({"pub", "--ns", "chat"}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "--room", ""}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "--event="}).ok());
  EXPECT_FALSE(ParseCommandLine({"pub", "--timeout-ms=0"}).ok());
  EXPECT_FALSE(ParseCommandLine({"sub", "--event", "x"}).ok());  // a pub-only flag
  EXPECT_FALSE(ParseCommandLine({"sub", "positional"}).ok());
}

TEST(CommandLineTest, Help) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"help"}, {"--help"}, {"-h"}, {"pub", "--help"}, {"help", "sub"}}) {
    auto command = ParseCommandLine(args);
    ASSERT_TRUE(command.ok());
    EXPECT_TRUE(std::holds_alternative<HelpCommand>(*command));
  }
  EXPECT_NE(std::get<HelpCommand>(*ParseCommandLine({"pub", "-h"})).text.find("--except-room"),
            std::string::npos);
  EXPECT_EQ(UsageFor({"sub", "--bad"}), SubUsage());
  EXPECT_EQ(UsageFor({"zzz"}), Usage());
}

TEST(FormatTest, LineHasTheAgreedShape) {
  Message message;
  message.ns = "/chat";
  message.rooms = {"general"};
  message.event = "chat message";
  message.args_json = R"([{"text":"hi"}])";
  EXPECT_EQ(
      FormatMessageLine(message),
      R"({"namespace":"/chat","rooms":["general"],"event":"chat message","args":[{"text":"hi"}]})");
}

TEST(FormatTest, EscapesNamesAndAddsBase64Attachments) {
  Message message;
  message.ns = "/q\"";
  message.event = "line\nbreak";
  message.args_json = R"(["x",{"_placeholder":true,"num":0}])";
  message.attachments = {std::string("\0\xff", 2)};
  const std::string line = FormatMessageLine(message);
  EXPECT_EQ(
      line,
      R"({"namespace":"/q\"","rooms":[],"event":"line\nbreak","args":["x",{"_placeholder":true,"num":0}],"attachments":["AP8="]})");
  EXPECT_TRUE(base::ValidateJsonValue(line).ok());
}

TEST(FormatTest, InvalidArgsStayValidJson) {
  Message message;
  message.ns = "/";
  message.args_json = "[1,";
  const std::string line = FormatMessageLine(message);
  EXPECT_TRUE(base::ValidateJsonValue(line).ok()) << line;
  EXPECT_NE(line.find(R"("args_text":"[1,")"), std::string::npos) << line;
}

}  // namespace
}  // namespace roomq::cli
