#include "gateway/server/host_port.h"

#include "absl/strings/numbers.h"
#include "proto/base/absl_compat.h"

namespace roomq::gateway::server {

absl::Status ParseHostPort(std::string_view text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError("expected HOST:PORT");
  }
  std::string_view h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  if (!absl::SimpleAtoi(ToAbsl(text.substr(colon + 1)), &p) || p < 0 || p > 65535) {
    return absl::InvalidArgumentError("port must be 0..65535");
  }
  if (h.empty()) return absl::InvalidArgumentError("empty host");
  *host = std::string(h);
  *port = p;
  return absl::OkStatus();
}

}  // namespace roomq::gateway::server
