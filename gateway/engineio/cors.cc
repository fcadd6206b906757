#include "gateway/engineio/cors.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace roomq::gateway::engineio {

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origins_.empty() || any_ || origin.empty()) return true;
  return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool CorsPolicy::Admit(std::string_view origin, bool websocket) const {
  if (Allows(origin)) return true;
  const uint64_t refused = refused_.fetch_add(1, std::memory_order_relaxed);
  if (refused < 100 || refused % 1000 == 0) {
    // The Origin is client data: shown bounded.
    spdlog::warn(
        "engine.io: {} request from Origin '{}' refused (not in --cors-origin); {} refused "
        "so far",
        websocket ? "websocket" : "polling", origin.substr(0, 200), refused + 1);
  }
  return false;
}

CorsPolicy::Headers CorsPolicy::ResponseHeaders(std::string_view origin) const {
  Headers headers;
  if (origins_.empty()) return headers;
  if (any_) {
    headers.emplace_back("Access-Control-Allow-Origin", "*");
    return headers;
  }
  if (!origin.empty() && Allows(origin)) {
    headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  headers.emplace_back("Vary", "Origin");
  return headers;
}

CorsPolicy::Headers CorsPolicy::PreflightHeaders(std::string_view origin,
                                                 std::string_view request_headers) const {
  Headers headers = ResponseHeaders(origin);
  if (origins_.empty()) return headers;
  headers.emplace_back("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
  if (!request_headers.empty()) {
    headers.emplace_back("Access-Control-Allow-Headers", std::string(request_headers));
    headers.emplace_back("Vary", "Access-Control-Request-Headers");
  }
  return headers;
}

}  // namespace roomq::gateway::engineio
