// libFuzzer target for the namespace-auth JWT verifier
// (gateway/socketio/auth/jwt_verifier.h): tokens come from any client.
//
// Byte 0 is the mode and the options: bit 0 = sign, bit 1 = an audience is
// configured, bit 2 = an issuer is configured, bits 3-4 = the leeway.
//   - raw (bit 0 clear): the rest is the token;
//   - sign (bit 0 set): the rest is "<header JSON>\n<claims JSON>" (or just
//     the claims under {"alg":"HS256","typ":"JWT"} when there is no
//     newline), which the target signs with the test key, so the claim
//     checks behind the signature get fuzzed too.
// Besides "never crash", it checks:
//   - a token accepted carries a valid HS256 signature of its first two
//     segments under the test key (canonical base64url), is refused under
//     another key, and its payload is the decoded claims segment;
//   - a refusal gives one of the documented reasons, and its detail never
//     contains the key.
// corpus/jwt/ holds valid tokens made by make_jwt_seeds.py (same key, same
// clock as below).

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "gateway/socketio/auth/jwt_verifier.h"

namespace auth = roomq::gateway::socketio::auth;

namespace {

constexpr std::string_view kKey = "roomq-fuzz-key-7f3a";
constexpr std::string_view kOtherKey = "roomq-fuzz-key-7f3b";
constexpr int64_t kNow = 1700000000;  // make_jwt_seeds.py signs around it
constexpr int kLeeways[] = {0, 5, 300, 5};

std::string B64Url(std::string_view bytes) {
  return absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()));
}

std::string Hs256(std::string_view key, std::string_view signed_part) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
           &mac_size) == nullptr) {
    std::abort();
  }
  return B64Url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

bool IsReason(std::string_view reason) {
  return reason == auth::kReasonMissingToken || reason == auth::kReasonInvalidToken ||
         reason == auth::kReasonTokenExpired || reason == auth::kReasonTokenNotYetValid ||
         reason == auth::kReasonInvalidAudience || reason == auth::kReasonInvalidIssuer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auth::JwtOptions options;
  options.key = kKey;
  if (flags & 2) options.audience = "roomq";
  if (flags & 4) options.issuer = "https://issuer.example";
  options.leeway = std::chrono::seconds(kLeeways[(flags >> 3) & 3]);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(kNow));

  std::string token(input);
  std::string claims;  // sign mode: what the payload must come back as
  if (flags & 1) {
    std::string_view header = R"({"alg":"HS256","typ":"JWT"})";
    std::string_view body = input;
    if (size_t nl = input.find('\n'); nl != std::string_view::npos) {
      header = input.substr(0, nl);
      body = input.substr(nl + 1);
    }
    claims = std::string(body);
    token = B64Url(header) + "." + B64Url(body);
    token += "." + Hs256(kKey, token);
  }

  const auth::JwtResult result = auth::VerifyJwt(token, options, now);
  if (!result.ok()) {
    if (!IsReason(result.reason) || result.detail.empty()) std::abort();
    if (result.detail.find(kKey) != std::string::npos) std::abort();
    return 0;
  }
  // Accepted: the signature must be HS256 under the test key.
  const size_t dot2 = token.rfind('.');
  const size_t dot1 = token.find('.');
  if (dot1 == std::string::npos || dot2 == dot1) std::abort();
  if (Hs256(kKey, std::string_view(token).substr(0, dot2)) != token.substr(dot2 + 1)) std::abort();
  std::string payload;
  if (!absl::WebSafeBase64Unescape(token.substr(dot1 + 1, dot2 - dot1 - 1), &payload) ||
      payload != result.payload) {
    std::abort();
  }
  if ((flags & 1) && result.payload != claims) std::abort();
  auth::JwtOptions other = options;
  other.key = kOtherKey;
  if (auth::VerifyJwt(token, other, now).ok()) std::abort();
  return 0;
}
