#ifndef ROOMQ_GATEWAY_SOCKETIO_AUTH_JWT_VERIFIER_H_
#define ROOMQ_GATEWAY_SOCKETIO_AUTH_JWT_VERIFIER_H_

// Verifies a JSON Web Token (RFC 7519) in compact form signed with HS256
// (HMAC-SHA256, RFC 7518 3.2) — the only algorithm accepted: a header with
// "alg" missing, "none", or anything else ("RS256", "HS512", ...) is
// refused, as is a header with "crit" (no extension is understood).
//
// Checked, in this order: the shape (three base64url segments without
// padding, at most kMaxTokenBytes), the header, the signature (HMAC over
// "<header>.<payload>" compared in constant time with CRYPTO_memcmp; the
// signature segment must be the canonical encoding of 32 bytes), then the
// payload claims: `exp` (required: a token that never expires is a
// permanent credential), `nbf` (optional), `aud` (a string or a list of
// strings; when an audience is configured it must be or contain it), `iss`
// (must equal the configured issuer, if any). `exp`/`nbf` accept the
// configured leeway. A claim of the wrong type, or one of these claims
// given twice, refuses the token.
//
// The reasons are short fixed strings meant for the client (CONNECT_ERROR)
// and for metrics labels; `detail` is for the log. Neither ever contains the
// key or the token.
//
// Thread safety: VerifyJwt is a pure function; call it from any thread.

#include <chrono>
#include <string>
#include <string_view>

namespace roomq::gateway::socketio::auth {

inline constexpr size_t kMaxTokenBytes = 8192;

// Refusal reasons (also used by socket_auth.h).
inline constexpr std::string_view kReasonMissingToken = "missing token";
inline constexpr std::string_view kReasonInvalidToken = "invalid token";
inline constexpr std::string_view kReasonTokenExpired = "token expired";
inline constexpr std::string_view kReasonTokenNotYetValid = "token not yet valid";
inline constexpr std::string_view kReasonInvalidAudience = "invalid audience";
inline constexpr std::string_view kReasonInvalidIssuer = "invalid issuer";

struct JwtOptions {
  std::string_view key;       // the HS256 secret; empty refuses every token
  std::string_view audience;  // empty: `aud` not checked
  std::string_view issuer;    // empty: `iss` not checked
  std::chrono::seconds leeway{5};
};

// The furthest a token's validity is taken to reach (about 31 years).
inline constexpr std::chrono::seconds kMaxValidity{1'000'000'000};

struct JwtResult {
  // Empty when the token is valid; else one of the kReason* strings.
  std::string_view reason;
  // Why, for the log (no key, no token); empty when valid.
  std::string detail;
  // When valid: the payload (claims set) as JSON text, and its `sub`
  // claim ("" when absent).
  std::string payload;
  std::string subject;
  // When valid: when it stops being valid (`exp` + leeway), clamped to at
  // most kMaxValidity from `now` so an absurd `exp` cannot overflow a clock.
  std::chrono::system_clock::time_point valid_until;

  bool ok() const { return reason.empty(); }
};

JwtResult VerifyJwt(std::string_view token, const JwtOptions& options,
                    std::chrono::system_clock::time_point now);

}  // namespace roomq::gateway::socketio::auth

#endif  // ROOMQ_GATEWAY_SOCKETIO_AUTH_JWT_VERIFIER_H_
