// Unit tests for the small pure pieces of the Engine.IO layer: query
// parsing, sids, CORS policy and error answers.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "gateway/engineio/cors.h"
#include "gateway/engineio/errors.h"
#include "gateway/engineio/query.h"
#include "gateway/engineio/sid.h"

namespace roomq::gateway::engineio {
namespace {

TEST(Query, FindsAndDecodesParameters) {
  const std::string query = "EIO=4&transport=polling&t=N%2Fabc&sid=a%2Bb&flag&x=1+2";
  EXPECT_EQ(QueryParam(query, "EIO").value(), "4");
  EXPECT_EQ(QueryParam(query, "transport").value(), "polling");
  EXPECT_EQ(QueryParam(query, "t").value(), "N/abc");
  EXPECT_EQ(QueryParam(query, "sid").value(), "a+b");
  EXPECT_EQ(QueryParam(query, "flag").value(), "");
  EXPECT_EQ(QueryParam(query, "x").value(), "1 2");
  EXPECT_FALSE(QueryParam(query, "missing").has_value());
  EXPECT_FALSE(QueryParam("", "EIO").has_value());
  EXPECT_FALSE(QueryParam("sid=%zz", "sid").has_value());
  EXPECT_FALSE(QueryParam("sid=%2", "sid").has_value());
}

TEST(PercentDecode, HandlesEscapes) {
  EXPECT_EQ(PercentDecode("a%20b", false).value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("%2e%2E", false).value(), "..");
  EXPECT_FALSE(PercentDecode("%", false).has_value());
  EXPECT_FALSE(PercentDecode("abc%4", false).has_value());
}

TEST(Sid, EncodesTheShardAndIsUnique) {
  std::set<std::string> seen;
  for (size_t shard : {size_t{0}, size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{4095}}) {
    for (int i = 0; i < 50; ++i) {
      std::string sid = NewSid(shard);
      EXPECT_EQ(sid.size(), 22u);
      EXPECT_EQ(
          sid.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
          std::string::npos);
      EXPECT_EQ(ShardOfSid(sid).value(), shard);
      EXPECT_TRUE(seen.insert(sid).second);
    }
  }
}

TEST(Sid, RejectsForeignIds) {
  EXPECT_FALSE(ShardOfSid("").has_value());
  EXPECT_FALSE(ShardOfSid("test").has_value());
  EXPECT_FALSE(ShardOfSid("aaaaaaaaaaaaaaaaaaaaaaa").has_value());  // 23 chars
  EXPECT_FALSE(ShardOfSid("aaaaaaaaaaaaaaaaaaaa.a").has_value());
}

// --sid-prefix: a load balancer routes by the prefix (deploy/lb/nginx.conf),
// so every sid of an instance starts with it and the rest stays a full,
// unguessable sid that still names the shard.
TEST(Sid, PrefixStartsEverySidAndKeepsTheShardAndRandomPart) {
  std::set<std::string> seen;
  for (size_t shard : {size_t{0}, size_t{5}, size_t{4095}}) {
    for (int i = 0; i < 50; ++i) {
      std::string sid = NewSid(shard, "gw2-");
      ASSERT_EQ(sid.size(), 4u + 22u);
      EXPECT_EQ(sid.substr(0, 4), "gw2-");
      EXPECT_EQ(ShardOfSid(sid, "gw2-").value(), shard);
      EXPECT_TRUE(seen.insert(sid.substr(4)).second);  // the random part alone is unique
    }
  }
}

TEST(Sid, PrefixMismatchIsUnknown) {
  const std::string plain = NewSid(3);
  const std::string ours = NewSid(3, "gw1-");
  EXPECT_FALSE(ShardOfSid(plain, "gw1-").has_value());       // no prefix
  EXPECT_FALSE(ShardOfSid(ours, "gw2-").has_value());        // another instance's
  EXPECT_FALSE(ShardOfSid(ours).has_value());                // prefix expected to be absent
  EXPECT_FALSE(ShardOfSid("gw1-", "gw1-").has_value());      // prefix only
  EXPECT_FALSE(ShardOfSid(ours + "a", "gw1-").has_value());  // too long
  EXPECT_EQ(ShardOfSid(ours, "gw1-").value(), 3u);
}

TEST(Sid, ValidPrefixes) {
  EXPECT_TRUE(IsValidSidPrefix(""));
  EXPECT_TRUE(IsValidSidPrefix("gw1-"));
  EXPECT_TRUE(IsValidSidPrefix("A_z-09"));
  EXPECT_TRUE(IsValidSidPrefix(std::string(kMaxSidPrefix, 'a')));
  EXPECT_FALSE(IsValidSidPrefix(std::string(kMaxSidPrefix + 1, 'a')));
  EXPECT_FALSE(IsValidSidPrefix("gw.1"));
  EXPECT_FALSE(IsValidSidPrefix("gw 1"));
  EXPECT_FALSE(IsValidSidPrefix("gw/1"));
  EXPECT_FALSE(IsValidSidPrefix("g%31"));
}

TEST(Sid, LogFormIsAStableDigestThatDoesNotContainTheSid) {
  const std::string sid = NewSid(3);
  const std::string logged = SidForLog(sid);
  EXPECT_EQ(logged, SidForLog(sid));
  EXPECT_EQ(logged.size(), 12u);  // "sid:" + 8 hex digits
  EXPECT_EQ(logged.rfind("sid:", 0), 0u);
  EXPECT_EQ(logged.find(sid.substr(0, 4)), std::string::npos);
  EXPECT_NE(logged, SidForLog(NewSid(3)));
  // SHA-256("abc") starts ba7816bf.
  EXPECT_EQ(SidForLog("abc"), "sid:ba7816bf");
}

TEST(Cors, NoOriginsMeansNoHeadersAndEverythingAllowed) {
  CorsPolicy cors({});
  EXPECT_TRUE(cors.Allows("http://evil.example"));
  EXPECT_TRUE(cors.ResponseHeaders("http://a.example").empty());
  EXPECT_TRUE(cors.PreflightHeaders("http://a.example", "content-type").empty());
}

TEST(Cors, WildcardAllowsAll) {
  CorsPolicy cors({"*"});
  EXPECT_TRUE(cors.Allows("http://anything.example"));
  auto headers = cors.ResponseHeaders("http://anything.example");
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].first, "Access-Control-Allow-Origin");
  EXPECT_EQ(headers[0].second, "*");
}

TEST(Cors, AdmitCountsRefusalsOnly) {
  CorsPolicy cors({"http://a.example"});
  EXPECT_TRUE(cors.Admit("http://a.example", false));
  EXPECT_TRUE(cors.Admit("", true));
  EXPECT_FALSE(cors.Admit("http://evil.example", true));
  EXPECT_FALSE(cors.Admit("null", false));
  EXPECT_EQ(cors.refused(), 2u);
  CorsPolicy open({});
  EXPECT_TRUE(open.Admit("http://evil.example", false));
  EXPECT_EQ(open.refused(), 0u);
}

TEST(Cors, ListEchoesAllowedOriginsWithCredentials) {
  CorsPolicy cors({"http://a.example", "http://b.example"});
  EXPECT_TRUE(cors.Allows("http://b.example"));
  EXPECT_TRUE(cors.Allows(""));  // non-browser clients send no Origin
  EXPECT_FALSE(cors.Allows("http://c.example"));
  auto headers = cors.ResponseHeaders("http://b.example");
  auto has = [&](const std::string& name, const std::string& value) {
    for (auto& [n, v] : headers) {
      if (n == name && v == value) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("Access-Control-Allow-Origin", "http://b.example"));
  EXPECT_TRUE(has("Access-Control-Allow-Credentials", "true"));
  EXPECT_TRUE(has("Vary", "Origin"));
  headers = cors.PreflightHeaders("http://a.example", "content-type");
  EXPECT_TRUE(has("Access-Control-Allow-Origin", "http://a.example"));
  EXPECT_TRUE(has("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE"));
  EXPECT_TRUE(has("Access-Control-Allow-Headers", "content-type"));
  headers = cors.ResponseHeaders("http://c.example");
  for (auto& [n, v] : headers) EXPECT_NE(n, "Access-Control-Allow-Origin");
}

TEST(Errors, BodiesMatchEngineIo) {
  EXPECT_EQ(ErrorReply(ErrorCode::kUnknownTransport).body,
            "{\"code\":0,\"message\":\"Transport unknown\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kUnknownSid).body,
            "{\"code\":1,\"message\":\"Session ID unknown\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kBadHandshakeMethod).body,
            "{\"code\":2,\"message\":\"Bad handshake method\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kBadRequest).body, "{\"code\":3,\"message\":\"Bad request\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kForbidden).body, "{\"code\":4,\"message\":\"Forbidden\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kUnsupportedProtocolVersion).body,
            "{\"code\":5,\"message\":\"Unsupported protocol version\"}");
  EXPECT_EQ(ErrorReply(ErrorCode::kForbidden).status, 403u);
  EXPECT_EQ(ErrorReply(ErrorCode::kUnknownSid).status, 400u);
  EXPECT_EQ(ErrorReply(ErrorCode::kUnknownSid).content_type, "application/json");
}

}  // namespace
}  // namespace roomq::gateway::engineio
