#include "gateway/engineio/sid.h"

#include <openssl/sha.h>

#include <cstdint>

#include "proto/base/random_id.h"

namespace roomq::gateway::engineio {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// 15 bytes = 120 bits = exactly kRandomChars base64url characters.
constexpr size_t kRandomBytes = 15;
constexpr size_t kRandomChars = 20;

int UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

bool IsValidSidPrefix(std::string_view prefix) {
  if (prefix.size() > kMaxSidPrefix) return false;
  for (char c : prefix) {
    if (UrlValue(c) < 0) return false;
  }
  return true;
}

std::string NewSid(size_t shard, std::string_view prefix) {
  std::string sid(prefix);
  sid.reserve(prefix.size() + kRandomChars + 2);
  sid += base::RandomUrlId(kRandomBytes);
  sid.push_back(kUrlAlphabet[(shard >> 6) & 63]);
  sid.push_back(kUrlAlphabet[shard & 63]);
  return sid;
}

std::optional<size_t> ShardOfSid(std::string_view sid, std::string_view prefix) {
  if (sid.substr(0, prefix.size()) != prefix) return std::nullopt;
  sid.remove_prefix(prefix.size());
  if (sid.size() != kRandomChars + 2) return std::nullopt;
  for (char c : sid) {
    if (UrlValue(c) < 0) return std::nullopt;
  }
  return static_cast<size_t>(UrlValue(sid[kRandomChars]) * 64 + UrlValue(sid[kRandomChars + 1]));
}

std::string SidForLog(std::string_view sid) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(sid.data()), sid.size(), digest);
  constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sid:";
  for (int i = 0; i < 4; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace roomq::gateway::engineio
