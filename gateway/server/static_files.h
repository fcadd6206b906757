#ifndef ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_
#define ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_

// Static file serving helpers: URL path -> file path inside a root directory
// (no traversal out of it), content types, bounded file reads. Pure apart
// from the file system; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::gateway::server {

// Largest file served (bytes); bigger files answer 404.
inline constexpr size_t kMaxStaticFileBytes = 64 << 20;

// Maps the URL path (percent-encoded, starting with '/', no query) to a
// regular file under `root`; "/" and directories map to their index.html.
// InvalidArgument for traversal attempts ("..", NUL, backslash, bad
// escapes); NotFound when there is no such regular file or it resolves
// (through symlinks) outside `root`.
absl::StatusOr<std::string> ResolveStaticPath(std::string_view root, std::string_view url_path);

// Content type by extension ("text/html; charset=utf-8", ...);
// "application/octet-stream" when unknown.
std::string_view ContentTypeFor(std::string_view path);

// Headers every static file is served with, so a page from the gateway
// runs only its own scripts and styles, talks only to its own origin, is
// never framed and is never sniffed as another type:
// Content-Security-Policy (default-src 'self'; connect-src 'self' — the
// chat page's polling and WebSocket; frame-ancestors 'none'; base-uri and
// form-action locked), X-Content-Type-Options: nosniff, X-Frame-Options:
// DENY (for browsers without frame-ancestors) and Referrer-Policy:
// no-referrer.
const std::vector<std::pair<std::string, std::string>>& StaticFileSecurityHeaders();

// Whole file contents; NotFound / ResourceExhausted (over the limit).
absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                            size_t max_bytes = kMaxStaticFileBytes);

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_
