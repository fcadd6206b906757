#include "gateway/server/static_files.h"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/status/status.h"
#include "gateway/engineio/query.h"

namespace roomq::gateway::server {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ResolveStaticPath(std::string_view root, std::string_view url_path) {
  if (root.empty()) return absl::NotFoundError("no static directory");
  auto decoded = engineio::PercentDecode(url_path, false);
  if (!decoded) return absl::InvalidArgumentError("bad escape in path");
  const std::string& path = *decoded;
  if (path.empty() || path[0] != '/') return absl::InvalidArgumentError("path must start with /");
  if (path.find('\0') != std::string::npos || path.find('\\') != std::string::npos) {
    return absl::InvalidArgumentError("bad character in path");
  }
  // Reject any ".." segment outright.
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (path.compare(start, end - start, "..") == 0) {
      return absl::InvalidArgumentError("path traversal");
    }
    start = end + 1;
  }
  std::error_code ec;
  fs::path root_path = fs::canonical(fs::path(std::string(root)), ec);
  if (ec) return absl::NotFoundError("static directory missing");
  fs::path candidate = root_path / fs::path(path.substr(1));
  if (fs::is_directory(candidate, ec)) candidate /= "index.html";
  fs::path resolved = fs::canonical(candidate, ec);
  if (ec) return absl::NotFoundError("no such file");
  // The resolved file must stay inside the root (symlinks included).
  auto [root_end, unused] =
      std::mismatch(root_path.begin(), root_path.end(), resolved.begin(), resolved.end());
  if (root_end != root_path.end()) return absl::NotFoundError("outside the static directory");
  if (!fs::is_regular_file(resolved, ec)) return absl::NotFoundError("not a regular file");
  return resolved.string();
}

std::string_view ContentTypeFor(std::string_view path) {
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string_view ext = path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "application/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json; charset=utf-8";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "ico") return "image/x-icon";
  if (ext == "webp") return "image/webp";
  if (ext == "wasm") return "application/wasm";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  return "application/octet-stream";
}

const std::vector<std::pair<std::string, std::string>>& StaticFileSecurityHeaders() {
  static const auto* const headers = new std::vector<std::pair<std::string, std::string>>{
      {"Content-Security-Policy",
       "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  return *headers;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError("cannot stat file");
  if (size > max_bytes) return absl::ResourceExhaustedError("file too large");
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open file");
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

}  // namespace roomq::gateway::server
