#include "roomq/args.h"

#include "gtest/gtest.h"
#include "proto/base/json.h"
#include "roomq/message.h"

namespace roomq {
namespace {

TEST(ArgsTest, EmptyIsEmptyArray) {
  Args args;
  EXPECT_EQ(args.json(), "[]");
  EXPECT_TRUE(args.empty());
  EXPECT_TRUE(args.status().ok());
}

TEST(ArgsTest, BuildsArrayFromEveryKind) {
  Args args;
  args.Json(R"({"text":"hi"})").String("a\"b\\c\n\x01").Number(2.5).Int(-7).Bool(true).Null();
  ASSERT_TRUE(args.status().ok()) << args.status();
  EXPECT_EQ(args.json(), R"([{"text":"hi"},"a\"b\\c\n\u0001",2.5,-7,true,null])");
  EXPECT_EQ(args.size(), 6u);
  EXPECT_TRUE(base::ValidateJsonArray(args.json()).ok());
}

TEST(ArgsTest, JsonKeepsTextRaw) {
  Args args;
  args.Json(R"( {"b" : 1,  "a":[1,2]} )");
  EXPECT_EQ(args.json(), R"([ {"b" : 1,  "a":[1,2]} ])");
}

TEST(ArgsTest, NumbersRoundTripShortest) {
  Args args;
  args.Number(0.1).Number(1e300).Number(3);
  EXPECT_EQ(args.json(), "[0.1,1e+300,3]");
}

TEST(ArgsTest, BinaryBecomesPlaceholders) {
  Args args;
  args.String("x").Binary(std::string("\0\1\2", 3)).Binary("second");
  EXPECT_EQ(args.json(), R"(["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  ASSERT_EQ(args.attachments().size(), 2u);
  EXPECT_EQ(args.attachments()[0], std::string("\0\1\2", 3));
  EXPECT_EQ(args.attachments()[1], "second");
}

TEST(ArgsTest, InvalidJsonIsKeptAsFirstError) {
  Args args;
  args.Int(1).Json("{bad").Int(2).Json("[1,");
  EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(args.status().message().find("argument 2"), std::string_view::npos) << args.status();
  EXPECT_EQ(args.json(), "[1]");
}

TEST(ArgsTest, RejectsTwoValuesAsOneArgument) {
  Args args;
  args.Json("1 2");
  EXPECT_FALSE(args.status().ok());
}

TEST(ArgsTest, RejectsInvalidUtf8AndNonFiniteNumbers) {
  EXPECT_FALSE(Args().String("\xff\xfe").status().ok());
  EXPECT_FALSE(Args().Number(std::numeric_limits<double>::infinity()).status().ok());
  EXPECT_FALSE(Args().Number(std::numeric_limits<double>::quiet_NaN()).status().ok());
}

TEST(ArgsTest, FromJsonArrayKeepsElementsAndCountsThem) {
  auto args = Args::FromJsonArray(R"([{"a":[1,","]},"x,y",3])", {"bin"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->json(), R"([{"a":[1,","]},"x,y",3])");
  EXPECT_EQ(args->size(), 3u);
  EXPECT_EQ(args->attachments(), std::vector<std::string>{"bin"});
  args->Int(4);
  EXPECT_EQ(args->json(), R"([{"a":[1,","]},"x,y",3,4])");
  auto empty = Args::FromJsonArray(" [ ] ");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_FALSE(Args::FromJsonArray(R"({"not":"array"})").ok());
  EXPECT_FALSE(Args::FromJsonArray("[1,").ok());
}

TEST(ArgsTest, FromMessageEchoesArgsAndAttachments) {
  Message message;
  message.args_json = R"(["hi",{"_placeholder":true,"num":0}])";
  message.attachments = {"\x01\x02"};
  Args args = Args::From(message);
  ASSERT_TRUE(args.status().ok());
  EXPECT_EQ(args.json(), message.args_json);
  EXPECT_EQ(args.attachments(), message.attachments);
}

}  // namespace
}  // namespace roomq
