// The HS256 JWT verifier and CONNECT admission (gateway/socketio/auth/),
// with tokens signed here with OpenSSL, plus two published vectors; and the
// socket ids whose rooms are reserved (IsIssuedSocketId, Shard::NewSocketId).

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gateway/socketio/auth/jwt_verifier.h"
#include "gateway/socketio/auth/socket_auth.h"
#include "gateway/socketio/shard.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::socketio::auth {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

constexpr std::string_view kKey = "a test key of reasonable length!";
constexpr int64_t kNow = 1'800'000'000;
constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

system_clock::time_point At(int64_t unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

std::string B64(std::string_view bytes) { return absl::WebSafeBase64Escape(ToAbsl(bytes)); }

std::string Mac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string Sign(std::string_view payload, std::string_view key = kKey,
                 std::string_view header = kHs256Header) {
  std::string signing = absl::StrCat(B64(header), ".", B64(payload));
  return absl::StrCat(signing, ".", B64(Mac(key, signing)));
}

std::string Claims(std::string_view extra = "") {
  return absl::StrCat(R"({"sub":"alice","exp":)", kNow + 60, ToAbsl(extra), "}");
}

JwtResult Verify(std::string_view token, JwtOptions options = {}) {
  if (options.key.empty()) options.key = kKey;
  return VerifyJwt(token, options, At(kNow));
}

TEST(JwtVerifierTest, AcceptsAValidToken) {
  JwtResult result = Verify(Sign(Claims()));
  ASSERT_TRUE(result.ok()) << result.reason << ": " << result.detail;
  EXPECT_EQ(result.subject, "alice");
  EXPECT_EQ(result.payload, Claims());
}

// RFC 7515 appendix A.1: the HS256 example (key given as a JWK "k").
TEST(JwtVerifierTest, KnownAnswerRfc7515A1) {
  std::string key;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
      &key));
  constexpr std::string_view kToken =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnV"
      "lfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  JwtOptions options;
  options.key = key;
  options.issuer = "joe";
  JwtResult result = VerifyJwt(kToken, options, At(1300819300));
  ASSERT_TRUE(result.ok()) << result.reason << ": " << result.detail;
  EXPECT_NE(result.payload.find("is_root"), std::string::npos);
  // Our own signer agrees with the published signature.
  const std::string_view signing = kToken.substr(0, kToken.rfind('.'));
  EXPECT_EQ(B64(Mac(key, signing)), kToken.substr(kToken.rfind('.') + 1));
  // The same token after its exp (leeway 5 s) is expired.
  EXPECT_EQ(VerifyJwt(kToken, options, At(1300819380 + 5)).reason, kReasonTokenExpired);
  // One flipped key byte: bad signature.
  key[0] ^= 1;
  EXPECT_EQ(VerifyJwt(kToken, options, At(1300819300)).detail, "bad signature");
}

// jwt.io's sample token (key "your-256-bit-secret"): the signature passes,
// but it has no exp, which roomq requires.
TEST(JwtVerifierTest, KnownAnswerJwtIoSampleHasNoExp) {
  constexpr std::string_view kToken =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
      ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
      ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  JwtOptions options;
  options.key = "your-256-bit-secret";
  JwtResult result = VerifyJwt(kToken, options, At(kNow));
  EXPECT_EQ(result.reason, kReasonInvalidToken);
  EXPECT_EQ(result.detail, "no 'exp' claim");
  options.key = "another-256-bit-secret";
  EXPECT_EQ(VerifyJwt(kToken, options, At(kNow)).detail, "bad signature");
}

TEST(JwtVerifierTest, RefusesOtherAlgorithms) {
  for (std::string_view header :
       {R"({"alg":"none","typ":"JWT"})", R"({"alg":"HS512"})", R"({"alg":"RS256"})",
        R"({"alg":"hs256"})", R"({"typ":"JWT"})", R"({"alg":null})",
        R"({"alg":"HS256","alg":"none"})", R"({"alg":"HS256","crit":["exp"]})", "[]", "not json"}) {
    JwtResult result = Verify(Sign(Claims(), kKey, header));
    EXPECT_EQ(result.reason, kReasonInvalidToken) << header;
  }
  // alg none with an empty signature, the classic downgrade.
  std::string unsigned_token = absl::StrCat(B64(R"({"alg":"none"})"), ".", B64(Claims()), ".");
  EXPECT_EQ(Verify(unsigned_token).reason, kReasonInvalidToken);
}

TEST(JwtVerifierTest, RefusesATamperedOrWronglyKeyedToken) {
  const std::string token = Sign(Claims());
  EXPECT_EQ(Verify(Sign(Claims(), "another key")).detail, "bad signature");
  // The payload swapped for another one, signature kept.
  const size_t dot1 = token.find('.');
  const size_t dot2 = token.rfind('.');
  std::string forged = absl::StrCat(token.substr(0, dot1), ".", B64(Claims(R"(,"publish":true)")),
                                    token.substr(dot2));
  EXPECT_EQ(Verify(forged).detail, "bad signature");
  // Every single-character change of the signature is refused.
  for (size_t i = dot2 + 1; i < token.size(); ++i) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(Verify(changed).ok()) << i;
  }
}

TEST(JwtVerifierTest, RefusesMalformedTokens) {
  const std::string good = Sign(Claims());
  for (const std::string& token :
       {std::string("abc"), std::string("a.b"), absl::StrCat(good, ".x"), absl::StrCat(" ", good),
        absl::StrCat(good, "="), std::string(".."),
        absl::StrCat("e30.", good.substr(good.find('.') + 1)),
        std::string(kMaxTokenBytes + 1, 'a')}) {
    EXPECT_EQ(Verify(token).reason, kReasonInvalidToken) << token.substr(0, 80);
  }
  EXPECT_EQ(Verify("").reason, kReasonMissingToken);
  // A payload that is not an object.
  EXPECT_EQ(Verify(Sign("[1]")).reason, kReasonInvalidToken);
  EXPECT_EQ(Verify(Sign("{bad json")).reason, kReasonInvalidToken);
}

TEST(JwtVerifierTest, AnEmptyKeyRefusesEverything) {
  JwtOptions options;  // no key
  EXPECT_EQ(VerifyJwt(Sign(Claims(), ""), options, At(kNow)).detail, "no key configured");
}

TEST(JwtVerifierTest, ChecksExpAndNbfWithLeeway) {
  auto with = [](int64_t exp, std::string_view extra = "") {
    return Sign(absl::StrCat(R"({"exp":)", exp, ToAbsl(extra), "}"));
  };
  EXPECT_TRUE(Verify(with(kNow + 1)).ok());
  EXPECT_TRUE(Verify(with(kNow - 4)).ok()) << "within the 5 s leeway";
  EXPECT_EQ(Verify(with(kNow - 5)).reason, kReasonTokenExpired);
  EXPECT_EQ(Verify(with(kNow - 3600)).reason, kReasonTokenExpired);
  JwtOptions strict;
  strict.leeway = seconds(0);
  EXPECT_EQ(Verify(with(kNow), strict).reason, kReasonTokenExpired);
  EXPECT_TRUE(Verify(with(kNow + 60, absl::StrCat(R"(,"nbf":)", kNow + 5))).ok());
  EXPECT_EQ(Verify(with(kNow + 60, absl::StrCat(R"(,"nbf":)", kNow + 6))).reason,
            kReasonTokenNotYetValid);
  EXPECT_TRUE(Verify(with(kNow + 60, R"(,"exp2":1)")).ok());
  // Non-integer NumericDate is allowed; a string or a duplicate is not.
  EXPECT_TRUE(Verify(Sign(absl::StrCat(R"({"exp":)", kNow, ".5e0}"))).ok());
  EXPECT_EQ(Verify(Sign(R"({"exp":"2100-01-01"})")).reason, kReasonInvalidToken);
  EXPECT_EQ(Verify(Sign(absl::StrCat(R"({"exp":)", kNow + 60, R"(,"exp":1})"))).reason,
            kReasonInvalidToken);
  EXPECT_EQ(Verify(Sign(R"({"sub":"no exp"})")).reason, kReasonInvalidToken);
}

// Found by tests/fuzz/jwt_fuzz (corpus/jwt/regression_exp_-1e30): an exp or
// nbf far outside int64_t seconds is refused, and its log detail is clamped
// (the cast was undefined behaviour under UBSan).
TEST(JwtVerifierTest, HugeExpAndNbfAreRefusedWithAClampedDetail) {
  JwtResult expired = Verify(Sign(R"({"exp":-1e30,"nbf":0})"));
  EXPECT_EQ(expired.reason, kReasonTokenExpired);
  EXPECT_EQ(expired.detail, "expired 1000000000000000 s ago");
  JwtResult early = Verify(Sign(R"({"exp":1e300,"nbf":1e300})"));
  EXPECT_EQ(early.reason, kReasonTokenNotYetValid);
  EXPECT_EQ(early.detail, "valid in 1000000000000000 s");
  EXPECT_TRUE(Verify(Sign(R"({"exp":1e300,"nbf":-1e300})")).ok());
}

TEST(JwtVerifierTest, ChecksAudienceAndIssuerWhenConfigured) {
  JwtOptions options;
  options.audience = "roomq";
  options.issuer = "idp";
  EXPECT_TRUE(Verify(Sign(Claims(R"(,"aud":"roomq","iss":"idp")")), options).ok());
  EXPECT_TRUE(Verify(Sign(Claims(R"(,"aud":["x","roomq"],"iss":"idp")")), options).ok());
  EXPECT_EQ(Verify(Sign(Claims(R"(,"aud":"other","iss":"idp")")), options).reason,
            kReasonInvalidAudience);
  EXPECT_EQ(Verify(Sign(Claims(R"(,"iss":"idp")")), options).reason, kReasonInvalidAudience);
  EXPECT_EQ(Verify(Sign(Claims(R"(,"aud":[1],"iss":"idp")")), options).reason, kReasonInvalidToken);
  EXPECT_EQ(Verify(Sign(Claims(R"(,"aud":"roomq","iss":"evil")")), options).reason,
            kReasonInvalidIssuer);
  EXPECT_EQ(Verify(Sign(Claims(R"(,"aud":"roomq")")), options).reason, kReasonInvalidIssuer);
  // Not configured: not checked.
  EXPECT_TRUE(Verify(Sign(Claims(R"(,"aud":"other","iss":"evil")"))).ok());
}

TEST(JwtVerifierTest, DetailsNeverContainTheKeyOrToken) {
  const std::string token = Sign(Claims(), "another key");
  JwtResult result = Verify(token);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.detail.find(kKey), std::string::npos);
  EXPECT_EQ(result.detail.find(token.substr(0, 10)), std::string::npos);
}

AuthPolicy JwtPolicy() {
  AuthPolicy policy;
  policy.kind = AuthKind::kJwt;
  policy.secret = std::string(kKey);
  return policy;
}

std::string Payload(std::string_view token) {
  return absl::StrCat(R"({"token":")", ToAbsl(token), R"("})");
}

TEST(SocketAuthTest, NoneAdmitsAnyoneWithoutAGrant) {
  Admission admission = Admit(AuthPolicy{}, "", At(kNow));
  EXPECT_TRUE(admission.ok());
  EXPECT_EQ(admission.grant, nullptr);
}

TEST(SocketAuthTest, JwtNeedsATokenString) {
  for (std::string_view data :
       {"", "{}", R"({"token":""})", R"({"token":5})", "[1]", "{bad", R"({"Token":"x"})"}) {
    EXPECT_EQ(Admit(JwtPolicy(), data, At(kNow)).reason, kReasonMissingToken) << data;
  }
  EXPECT_EQ(Admit(JwtPolicy(), Payload("x.y.z"), At(kNow)).reason, kReasonInvalidToken);
  Admission expired = Admit(JwtPolicy(), Payload(Sign(R"({"exp":1})")), At(kNow));
  EXPECT_EQ(expired.reason, kReasonTokenExpired);
}

TEST(SocketAuthTest, AValidTokenGrantsItsClaims) {
  Admission plain = Admit(JwtPolicy(), Payload(Sign(Claims())), At(kNow));
  ASSERT_TRUE(plain.ok()) << plain.reason << plain.detail;
  ASSERT_NE(plain.grant, nullptr);
  EXPECT_EQ(plain.grant->subject, "alice");
  EXPECT_TRUE(plain.grant->may_publish);
  EXPECT_TRUE(plain.grant->MayJoin("anything"));

  Admission limited =
      Admit(JwtPolicy(),
            Payload(Sign(Claims(R"(,"rooms":["lobby","^team-[0-9]+$","a.b"],"publish":false)"))),
            At(kNow));
  ASSERT_TRUE(limited.ok()) << limited.reason << limited.detail;
  const Grant& grant = *limited.grant;
  EXPECT_FALSE(grant.may_publish);
  EXPECT_TRUE(grant.MayJoin("lobby"));
  EXPECT_TRUE(grant.MayJoin("team-42"));
  EXPECT_TRUE(grant.MayJoin("a.b"));
  EXPECT_FALSE(grant.MayJoin("axb")) << "entries without '^' are exact names";
  EXPECT_FALSE(grant.MayJoin("team-42x"));
  EXPECT_FALSE(grant.MayJoin("lobby2"));
  EXPECT_FALSE(grant.MayJoin("admin"));

  Admission none = Admit(JwtPolicy(), Payload(Sign(Claims(R"(,"rooms":[])"))), At(kNow));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.grant->MayJoin("lobby"));

  Admission publisher =
      Admit(JwtPolicy(), Payload(Sign(Claims(R"(,"publish":["news","^team-[0-9]+$"])"))), At(kNow));
  ASSERT_TRUE(publisher.ok()) << publisher.reason << publisher.detail;
  EXPECT_TRUE(publisher.grant->may_publish);
  EXPECT_TRUE(publisher.grant->MayPublishTo("news"));
  EXPECT_TRUE(publisher.grant->MayPublishTo("team-7"));
  EXPECT_FALSE(publisher.grant->MayPublishTo("lobby"));
  EXPECT_TRUE(publisher.grant->MayJoin("lobby")) << "the publish list does not limit joins";
  EXPECT_FALSE(limited.grant->MayPublishTo("lobby")) << "publish: false";

  // A pattern a backtracking matcher takes exponential time on, against a
  // long room name a client chose: one linear pass (proto/base/pattern.h).
  Admission nested = Admit(JwtPolicy(), Payload(Sign(Claims(R"(,"rooms":["^(a+)+$"])"))), At(kNow));
  ASSERT_TRUE(nested.ok()) << nested.reason << nested.detail;
  EXPECT_FALSE(nested.grant->MayJoin(std::string(100000, 'a') + "!"));
  EXPECT_TRUE(nested.grant->MayJoin("aaaa"));
}

TEST(SocketAuthTest, BadClaimTypesRefuseTheToken) {
  for (std::string_view extra :
       {R"(,"rooms":"lobby")", R"(,"rooms":[1])", R"(,"rooms":[""])", R"(,"rooms":["^(unclosed"])",
        R"(,"rooms":["^(a)\\1$"])", R"(,"publish":"yes")", R"(,"publish":1)", R"(,"publish":[2])",
        R"(,"publish":["^(unclosed"])"}) {
    EXPECT_EQ(Admit(JwtPolicy(), Payload(Sign(Claims(extra))), At(kNow)).reason,
              kReasonInvalidToken)
        << extra;
  }
  std::string many = R"(,"rooms":[)";
  for (size_t i = 0; i <= kMaxRoomClaims; ++i) absl::StrAppend(&many, i ? "," : "", "\"r\"");
  many += "]";
  EXPECT_EQ(Admit(JwtPolicy(), Payload(Sign(Claims(many))), At(kNow)).reason, kReasonInvalidToken);
}

TEST(SocketAuthTest, AudienceAndIssuerFromThePolicy) {
  AuthPolicy policy = JwtPolicy();
  policy.audience = "roomq";
  policy.issuer = "idp";
  EXPECT_EQ(Admit(policy, Payload(Sign(Claims())), At(kNow)).reason, kReasonInvalidAudience);
  EXPECT_TRUE(Admit(policy, Payload(Sign(Claims(R"(,"aud":"roomq","iss":"idp")"))), At(kNow)).ok());
  policy.secret.clear();  // never loaded: fail closed
  EXPECT_EQ(Admit(policy, Payload(Sign(Claims(R"(,"aud":"roomq","iss":"idp")"))), At(kNow)).reason,
            kReasonInvalidToken);
}

constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

TEST(SocketIdTest, EveryNewSocketIdIsAnIssuedId) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = Shard::NewSocketId();
    ASSERT_EQ(id.size(), kSocketIdChars) << id;
    ASSERT_EQ(id.find_first_not_of(kUrlAlphabet), std::string::npos) << id;
    ASSERT_TRUE(IsIssuedSocketId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
}

TEST(SocketIdTest, CheckIsTheDocumentedSha256) {
  // base64url(SHA-256("roomq-sid:" + part)[0..3)), computed independently
  // (Python's hashlib): every gateway, of any version, must agree on it.
  EXPECT_EQ(SocketIdCheck("ABCDEFGHIJKLMNOP"), "t55s");
  EXPECT_EQ(SocketIdCheck("0123456789abcdef"), "zi5c");
  EXPECT_TRUE(IsIssuedSocketId("ABCDEFGHIJKLMNOPt55s"));
  EXPECT_TRUE(IsIssuedSocketId("0123456789abcdefzi5c"));
  // Any single changed character breaks it.
  const std::string id = "ABCDEFGHIJKLMNOPt55s";
  for (size_t i = 0; i < id.size(); ++i) {
    std::string changed = id;
    changed[i] = changed[i] == 'x' ? 'y' : 'x';
    EXPECT_FALSE(IsIssuedSocketId(changed)) << changed;
  }
  EXPECT_FALSE(IsIssuedSocketId("ABCDEFGHIJKLMNOPt55"));     // 19
  EXPECT_FALSE(IsIssuedSocketId("ABCDEFGHIJKLMNOPt55s_"));   // 21
  EXPECT_FALSE(IsIssuedSocketId("ABCDEFGHIJKLMNOPQ.t55s"));  // 22, '.'
  EXPECT_FALSE(IsIssuedSocketId(""));
}

TEST(SocketIdTest, WordsShapedLikeSocketIdsAreNotIssuedIds) {
  for (std::string_view word :
       {"internationalization", "counterrevolutionary", "uncharacteristically",
        "ABCDEFGHIJKLMNOPQRST", "abcdefghijklmnopqrst", "AbCdEfGhIjKlMnOpQr_-",
        "01234567890123456789", "aaaaaaaaaaaaaaaaaaaa", "QpZ3xR7mN2kL9vB4tY6w"}) {
    ASSERT_EQ(word.size(), kSocketIdChars) << word;
    EXPECT_FALSE(IsIssuedSocketId(word)) << word;
  }
  EXPECT_FALSE(IsIssuedSocketId("lobby"));
}

// How often names that are not ids verify by chance. The designed rate is
// 64^-4 = 2^-24 per name, too rare to count in a fast test, so the test
// counts matches of the first check character (rate 1/64) and of the first
// two (1/4096) — the full check is four such characters — and that no name
// verifies outright (expected 0.002 per family). Three families of names,
// from a fixed seed: uniform base64url; lowercase only (word-like); and a
// 10-character string written twice, where the would-be check characters
// repeat part of the random part (a check that copied characters of the
// random part would verify these far too often).
TEST(SocketIdTest, OtherNamesVerifyAtTheDesignedRate) {
  constexpr int kNames = 1 << 15;
  constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
  uint64_t state = 1;
  auto next = [&state] {  // splitmix64: fixed, fast and fully specified
    uint64_t z = (state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
  };
  for (const std::string_view family : {"uniform", "lowercase", "doubled"}) {
    int first = 0;
    int first_two = 0;
    int verified = 0;
    std::string name(kSocketIdChars, ' ');
    for (int i = 0; i < kNames; ++i) {
      for (size_t c = 0; c < name.size(); ++c) {
        const uint64_t r = next() >> 32;
        if (family == "lowercase") {
          name[c] = kLowercase[r % kLowercase.size()];
        } else if (family == "uniform" || c < 10) {
          name[c] = kUrlAlphabet[r % kUrlAlphabet.size()];
        } else {
          name[c] = name[c - 10];  // doubled
        }
      }
      const std::string check =
          SocketIdCheck(std::string_view(name).substr(0, kSocketIdRandomChars));
      if (name[16] == check[0]) ++first;
      if (name[16] == check[0] && name[17] == check[1]) ++first_two;
      if (IsIssuedSocketId(name)) ++verified;
    }
    // Expected 512 (sd 22.6) and 8 (sd 2.8); the bounds are about 5 sd.
    // The seed fixes the counts (527/8/0, 479/3/0, 511/6/0, as Python's
    // hashlib over the same splitmix64 stream gives), so this never flakes.
    EXPECT_GE(first, 400) << family;
    EXPECT_LE(first, 630) << family;
    EXPECT_GE(first_two, 1) << family;
    EXPECT_LE(first_two, 24) << family;
    EXPECT_LE(verified, 1) << family;
  }
}

}  // namespace
}  // namespace roomq::gateway::socketio::auth
