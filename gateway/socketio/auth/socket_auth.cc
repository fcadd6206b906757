#include "gateway/socketio/auth/socket_auth.h"

#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gateway/socketio/auth/jwt_verifier.h"
#include "proto/base/absl_compat.h"
#include "proto/base/pattern.h"

namespace roomq::gateway::socketio::auth {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Domain separation: the check is SHA-256 of this prefix + the random part.
constexpr std::string_view kSocketIdCheckPrefix = "roomq-sid:";

bool IsUrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Admission Refuse(std::string_view reason, std::string detail) {
  Admission admission;
  admission.reason = reason;
  admission.detail = std::move(detail);
  return admission;
}

// The "token" string of the CONNECT payload; nullopt when there is none.
std::optional<std::string> TokenOf(std::string_view connect_data) {
  if (connect_data.empty()) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(connect_data.data(), connect_data.size()).get(root) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::string_view token;
  if (root.at_key("token").get_string().get(token) != simdjson::SUCCESS || token.empty()) {
    return std::nullopt;
  }
  return std::string(token);
}

// Reads the list claim `name` ("rooms" or "publish": exact names, or
// regexes starting with '^') into `list`; absent leaves it unlimited. False
// (with `why`) when it has the wrong type or is too big.
bool ReadRoomList(simdjson::dom::object claims, std::string_view name, RoomList& list,
                  std::string* why) {
  simdjson::dom::element element;
  if (claims.at_key(name).get(element) != simdjson::SUCCESS) return true;
  simdjson::dom::array entries;
  if (element.get_array().get(entries) != simdjson::SUCCESS) {
    *why = absl::StrCat("'", ToAbsl(name), "' claim is not a list");
    return false;
  }
  if (entries.size() > kMaxRoomClaims) {
    *why = absl::StrCat("'", ToAbsl(name), "' claim has more than ", kMaxRoomClaims, " entries");
    return false;
  }
  list.limited = true;
  for (simdjson::dom::element item : entries) {
    std::string_view entry;
    if (item.get_string().get(entry) != simdjson::SUCCESS || entry.empty() ||
        entry.size() > kMaxRoomClaimBytes) {
      *why = absl::StrCat("a '", ToAbsl(name), "' entry is not a string of 1 to 256 bytes");
      return false;
    }
    if (entry.front() != '^') {
      list.exact.emplace_back(entry);
      continue;
    }
    absl::StatusOr<base::Pattern> pattern = base::Pattern::Compile(entry);
    if (!pattern.ok()) {
      *why = absl::StrCat("a '", ToAbsl(name),
                          "' entry is not a valid regex: ", pattern.status().message());
      return false;
    }
    list.patterns.push_back(*std::move(pattern));
  }
  return true;
}

// Reads the roomq claims of a verified payload into `grant`; false (with
// `why`) when one has the wrong type or is too big.
bool ReadClaims(const std::string& payload, Grant& grant, std::string* why) {
  simdjson::dom::parser parser;
  simdjson::dom::object claims;
  if (parser.parse(payload.data(), payload.size()).get_object().get(claims) != simdjson::SUCCESS) {
    *why = "payload is not a JSON object";
    return false;
  }
  if (!ReadRoomList(claims, "rooms", grant.join_rooms, why)) return false;
  simdjson::dom::element publish;
  if (claims.at_key("publish").get(publish) == simdjson::SUCCESS) {
    if (publish.is_array()) {
      if (!ReadRoomList(claims, "publish", grant.publish_rooms, why)) return false;
    } else if (publish.get_bool().get(grant.may_publish) != simdjson::SUCCESS) {
      *why = "'publish' claim is neither a boolean nor a list";
      return false;
    }
  }
  return true;
}

}  // namespace

bool RoomList::Allows(std::string_view room) const {
  if (!limited) return true;
  if (std::find(exact.begin(), exact.end(), room) != exact.end()) return true;
  for (const base::Pattern& pattern : patterns) {
    if (pattern.FullMatch(room)) return true;
  }
  return false;
}

Admission Admit(const AuthPolicy& policy, std::string_view connect_data,
                std::chrono::system_clock::time_point now) {
  if (policy.kind == AuthKind::kNone) return {};
  std::optional<std::string> token = TokenOf(connect_data);
  if (!token.has_value())
    return Refuse(kReasonMissingToken, "no \"token\" string in the auth payload");
  JwtOptions options;
  options.key = policy.secret;
  options.audience = policy.audience;
  options.issuer = policy.issuer;
  options.leeway = policy.leeway;
  JwtResult verified = VerifyJwt(*token, options, now);
  if (!verified.ok()) return Refuse(verified.reason, std::move(verified.detail));
  auto grant = std::make_shared<Grant>();
  grant->subject = std::move(verified.subject);
  grant->valid_until = verified.valid_until;
  std::string why;
  if (!ReadClaims(verified.payload, *grant, &why)) return Refuse(kReasonInvalidToken, why);
  Admission admission;
  admission.grant = std::move(grant);
  return admission;
}

std::string SocketIdCheck(std::string_view random_part) {
  static_assert(kSocketIdCheckChars == 4, "the check is 3 digest bytes as 4 characters");
  std::string input(kSocketIdCheckPrefix);
  input.append(random_part);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  const uint32_t bits = (uint32_t{digest[0]} << 16) | (uint32_t{digest[1]} << 8) | digest[2];
  return {kUrlAlphabet[(bits >> 18) & 63], kUrlAlphabet[(bits >> 12) & 63],
          kUrlAlphabet[(bits >> 6) & 63], kUrlAlphabet[bits & 63]};
}

bool IsIssuedSocketId(std::string_view name) {
  if (name.size() != kSocketIdChars || !std::all_of(name.begin(), name.end(), IsUrlChar)) {
    return false;
  }
  return name.substr(kSocketIdRandomChars) == SocketIdCheck(name.substr(0, kSocketIdRandomChars));
}

}  // namespace roomq::gateway::socketio::auth
