// The roomq CLI's separable parts: flag parsing, subcommand parsing, the
// JSON line format.
#include <variant>

#include "clients/cli/command_line.h"
#include "clients/cli/flags.h"
#include "clients/cli/format.h"
#include "gtest/gtest.h"
#include "proto/base/json.h"

namespace roomq::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"name", "VALUE", "a value", ""},
    {"multi", "VALUE", "repeatable", "", true},
    {"verbose", "", "a boolean", "false"},
};

TEST(FlagsTest, ParsesEveryForm) {
  auto flags = ParseFlags(kSpecs, {"--name=a", "pos1", "--multi", "x", "-multi=y", "--verbose",
                                   "--", "--not-a-flag", "-"});
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->Get("name", ""), "a");
  EXPECT_EQ(flags->GetAll("multi"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(flags->Get("verbose", ""), "true");
  EXPECT_EQ(flags->positional, (std::vector<std::string>{"pos1", "--not-a-flag", "-"}));
  EXPECT_FALSE(flags->help);
}

TEST(FlagsTest, BooleanNegationAndExplicitValues) {
  auto flags = ParseFlags(kSpecs, {"--noverbose"});
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->Get("verbose", ""), "false");
  EXPECT_FALSE(ParseFlags(kSpecs, {"--verbose=maybe"}).ok());
  EXPECT_FALSE(ParseFlags(kSpecs, {"--noname"}).ok());  // not a boolean
}

TEST(FlagsTest, Errors) {
  EXPECT_EQ(ParseFlags(kSpecs, {"--bogus"}).status().message(), "unknown flag --bogus");
  EXPECT_FALSE(ParseFlags(kSpecs, {"--name"}).ok());                // missing value
  EXPECT_FALSE(ParseFlags(kSpecs, {"--name=a", "--name=b"}).ok());  // not repeatable
  EXPECT_TRUE(ParseFlags(kSpecs, {"-h"})->help);
  EXPECT_TRUE(ParseFlags(kSpecs, {"--help"})->help);
}

TEST(FlagsTest, HelpListsFlagsWithDefaults) {
  const std::string help = FlagsHelp(kSpecs);
  EXPECT_NE(help.find("--name=VALUE"), std::string::npos);
  EXPECT_NE(help.find("(repeatable)"), std::string::npos);
  EXPECT_NE(help.find("(default: false)"), std::string::npos);
  EXPECT_NE(help.find("--help"), std::string::npos);
}

TEST(FlagsTest, NonNegativeIntegers) {
  EXPECT_EQ(*ParseNonNegative("n", "250"), 250);
  EXPECT_FALSE(ParseNonNegative("n", "-1").ok());
  EXPECT_FALSE(ParseNonNegative("n", "12ms").ok());
  EXPECT_FALSE(ParseNonNegative("n", "").ok());
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
