#include "gateway/socketio/auth/jwt_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::socketio::auth {
namespace {

constexpr size_t kSignatureBytes = 32;  // SHA-256

JwtResult Refuse(std::string_view reason, std::string detail) {
  JwtResult result;
  result.reason = reason;
  result.detail = std::move(detail);
  return result;
}

// Whole seconds for a log detail. A claim may be any finite double, and
// casting one past the range of int64_t is undefined (found by jwt_fuzz).
int64_t DetailSeconds(double s) { return static_cast<int64_t>(std::clamp(s, -1e15, 1e15)); }

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Strict base64url without padding or whitespace (absl's decoder alone
// would skip whitespace and accept '=').
bool DecodeSegment(std::string_view segment, std::string* out) {
  if (segment.empty()) return false;
  for (char c : segment) {
    if (!IsBase64UrlChar(c)) return false;
  }
  return absl::WebSafeBase64Unescape(ToAbsl(segment), out);
}

// Parses `json` into `parser`'s document; the top level must be an object.
std::optional<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser,
                                                 const std::string& json) {
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  return object;
}

bool AudienceMatches(simdjson::dom::element aud, std::string_view audience, bool* well_typed) {
  std::string_view single;
  if (aud.get_string().get(single) == simdjson::SUCCESS) {
    *well_typed = true;
    return single == audience;
  }
  simdjson::dom::array list;
  if (aud.get_array().get(list) != simdjson::SUCCESS) {
    *well_typed = false;
    return false;
  }
  bool found = false;
  for (simdjson::dom::element item : list) {
    std::string_view value;
    if (item.get_string().get(value) != simdjson::SUCCESS) {
      *well_typed = false;
      return false;
    }
    if (value == audience) found = true;
  }
  *well_typed = true;
  return found;
}

}  // namespace

JwtResult VerifyJwt(std::string_view token, const JwtOptions& options,
                    std::chrono::system_clock::time_point now) {
  if (token.empty()) return Refuse(kReasonMissingToken, "empty token");
  if (token.size() > kMaxTokenBytes) {
    return Refuse(kReasonInvalidToken,
                  absl::StrCat("token longer than ", kMaxTokenBytes, " bytes"));
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Refuse(kReasonInvalidToken, "not three dot-separated segments");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  std::string header;
  std::string payload;
  std::string signature;
  if (!DecodeSegment(header_b64, &header) || !DecodeSegment(payload_b64, &payload) ||
      !DecodeSegment(signature_b64, &signature)) {
    return Refuse(kReasonInvalidToken, "a segment is not base64url");
  }

  simdjson::dom::parser parser;
  {
    auto object = ParseObject(parser, header);
    if (!object) return Refuse(kReasonInvalidToken, "header is not a JSON object");
    int algs = 0;
    std::string_view alg;
    for (simdjson::dom::key_value_pair field : *object) {
      if (field.key == "alg") {
        ++algs;
        if (field.value.get_string().get(alg) != simdjson::SUCCESS) alg = {};
      } else if (field.key == "crit") {
        return Refuse(kReasonInvalidToken, "header has 'crit'");
      }
    }
    if (algs != 1) return Refuse(kReasonInvalidToken, "header needs exactly one 'alg'");
    if (alg != "HS256") {
      return Refuse(kReasonInvalidToken, "algorithm is not HS256");
    }
  }

  if (options.key.empty()) return Refuse(kReasonInvalidToken, "no key configured");
  if (signature.size() != kSignatureBytes ||
      absl::WebSafeBase64Escape(ToAbsl(signature)) != signature_b64) {
    return Refuse(kReasonInvalidToken, "signature is not 32 canonically encoded bytes");
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  const std::string_view signed_part = token.substr(0, dot2);
  if (HMAC(EVP_sha256(), options.key.data(), static_cast<int>(options.key.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac,
           &mac_size) == nullptr ||
      mac_size != kSignatureBytes) {
    return Refuse(kReasonInvalidToken, "HMAC failed");
  }
  if (CRYPTO_memcmp(mac, signature.data(), kSignatureBytes) != 0) {
    return Refuse(kReasonInvalidToken, "bad signature");
  }

  auto claims = ParseObject(parser, payload);
  if (!claims) return Refuse(kReasonInvalidToken, "payload is not a JSON object");
  std::optional<double> exp;
  std::optional<double> nbf;
  std::optional<simdjson::dom::element> aud;
  std::optional<std::string_view> iss;
  std::optional<std::string_view> sub;
  for (simdjson::dom::key_value_pair field : *claims) {
    const std::string_view key = field.key;
    if (key == "exp" || key == "nbf") {
      std::optional<double>& slot = key == "exp" ? exp : nbf;
      double value = 0;
      if (slot.has_value() || field.value.get_double().get(value) != simdjson::SUCCESS ||
          !std::isfinite(value)) {
        return Refuse(kReasonInvalidToken, absl::StrCat("bad '", ToAbsl(key), "' claim"));
      }
      slot = value;
    } else if (key == "aud") {
      if (aud.has_value()) return Refuse(kReasonInvalidToken, "'aud' given twice");
      aud = field.value;
    } else if (key == "iss" || key == "sub") {
      std::optional<std::string_view>& slot = key == "iss" ? iss : sub;
      std::string_view value;
      if (slot.has_value() || field.value.get_string().get(value) != simdjson::SUCCESS) {
        return Refuse(kReasonInvalidToken, absl::StrCat("bad '", ToAbsl(key), "' claim"));
      }
      slot = value;
    }
  }

  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway_s = static_cast<double>(options.leeway.count());
  if (!exp.has_value()) return Refuse(kReasonInvalidToken, "no 'exp' claim");
  if (now_s >= *exp + leeway_s) {
    return Refuse(kReasonTokenExpired,
                  absl::StrCat("expired ", DetailSeconds(now_s - *exp), " s ago"));
  }
  if (nbf.has_value() && now_s + leeway_s < *nbf) {
    return Refuse(kReasonTokenNotYetValid,
                  absl::StrCat("valid in ", DetailSeconds(*nbf - now_s), " s"));
  }
  if (!options.audience.empty()) {
    bool well_typed = false;
    if (!aud.has_value()) return Refuse(kReasonInvalidAudience, "no 'aud' claim");
    if (!AudienceMatches(*aud, options.audience, &well_typed)) {
      return Refuse(well_typed ? kReasonInvalidAudience : kReasonInvalidToken,
                    well_typed ? "audience not listed in 'aud'" : "bad 'aud' claim");
    }
  }
  if (!options.issuer.empty() && (!iss.has_value() || *iss != options.issuer)) {
    return Refuse(kReasonInvalidIssuer, iss.has_value() ? "another issuer" : "no 'iss' claim");
  }

  JwtResult result;
  if (sub.has_value()) result.subject = std::string(*sub);
  const double valid_for_s =
      std::min(*exp + leeway_s - now_s, static_cast<double>(kMaxValidity.count()));
  result.valid_until = now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 std::chrono::duration<double>(valid_for_s));
  result.payload = std::move(payload);
  return result;
}

}  // namespace roomq::gateway::socketio::auth
