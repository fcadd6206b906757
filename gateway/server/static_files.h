#ifndef ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_
#define ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_

// Static file serving helpers: URL path -> file path inside a root directory
// (no traversal out of it), content types, bounded file reads. Pure apart
// from the file system; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

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

// Whole file contents; NotFound / ResourceExhausted (over the limit).
absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                            size_t max_bytes = kMaxStaticFileBytes);

}  // namespace roomq::gateway::server

#endif  // ROOMQ_GATEWAY_SERVER_STATIC_FILES_H_
