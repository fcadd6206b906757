#ifndef ROOMQ_GATEWAY_ENGINEIO_QUERY_H_
#define ROOMQ_GATEWAY_ENGINEIO_QUERY_H_

// URL query-string helpers for Engine.IO requests. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace roomq::gateway::engineio {

// Decodes %XX escapes and '+' (as a space). nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// The decoded value of the first `key=` parameter of `query` (no leading
// '?'); nullopt when absent or malformed. "key" without '=' yields "".
std::optional<std::string> QueryParam(std::string_view query, std::string_view key);

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_QUERY_H_
