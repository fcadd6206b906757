// GatewayOptions::Validate refuses every range roomq-gateway refuses, with
// the message it prints before "(see --help)", and accepts the defaults.

#include "gateway/server/gateway_options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace roomq::gateway::server {
namespace {

TEST(GatewayOptionsTest, DefaultsAreValid) { EXPECT_TRUE(GatewayOptions().Validate().ok()); }

// Each edge alone: the last value of a range that is still accepted.
TEST(GatewayOptionsTest, EdgesOfEveryRangeAreValid) {
  const std::vector<std::pair<std::string, std::function<void(GatewayOptions&)>>> edges = {
      {"listen [::1]:0", [](auto& o) { o.listen = "[::1]:0"; }},
      {"threads 4096", [](auto& o) { o.threads = 4096; }},
      {"max_event_bytes with framing = max_outbound_bytes",
       [](auto& o) { o.max_event_bytes = o.max_outbound_bytes - 512; }},
      {"sid_prefix of 16", [](auto& o) { o.sid_prefix = "gw-1_ABCDEFGHIJK"; }},
      {"shutdown_grace_ms 0", [](auto& o) { o.shutdown_grace_ms = 0; }},
      {"max_connections 0", [](auto& o) { o.max_connections = 0; }},
      {"max_namespaces 1", [](auto& o) { o.max_namespaces = 1; }},
      {"max_rooms_per_socket 2", [](auto& o) { o.max_rooms_per_socket = 2; }},
      {"max_dynamic_namespaces 1", [](auto& o) { o.max_dynamic_namespaces = 1; }},
      {"message_rate 0", [](auto& o) { o.message_rate = 0; }},
      {"message_burst 1", [](auto& o) { o.message_burst = 1; }},
      {"rate_limit_policy disconnect", [](auto& o) { o.rate_limit_policy = "disconnect"; }},
      {"handshake_rate 0", [](auto& o) { o.handshake_rate = 0; }},
      {"handshake_burst 1", [](auto& o) { o.handshake_burst = 1; }},
      {"max_sessions_per_address 0", [](auto& o) { o.max_sessions_per_address = 0; }},
      {"max_rooms_per_address 0", [](auto& o) { o.max_rooms_per_address = 0; }},
      {"trusted_proxy v4 and v6",
       [](auto& o) {
         o.trusted_proxy = {"10.0.0.0/8", "fd00::/8"};
       }},
      {"max_shard_queue_bytes 1", [](auto& o) { o.max_shard_queue_bytes = 1; }},
  };
  for (const auto& [name, change] : edges) {
    GatewayOptions options;
    change(options);
    EXPECT_TRUE(options.Validate().ok()) << name << ": " << options.Validate();
  }
}

struct BadCase {
  std::string name;
  std::function<void(GatewayOptions&)> change;
  std::string message;  // what Validate says (a prefix for --listen, --trusted-proxy)
};

void PrintTo(const BadCase& bad, std::ostream* out) { *out << bad.name; }

std::vector<BadCase> BadCases() {
  const std::string timeouts =
      "--ping-interval-ms, --ping-timeout-ms and --connect-timeout-ms must be positive";
  const std::string sizes = "--max-payload and --max-outbound-bytes must be positive";
  const std::string rooms = "--max-namespaces must be >= 1 and --max-rooms-per-socket >= 2";
  const std::string message_rate = "--message-rate must be >= 0 and --message-burst >= 1";
  const std::string handshake_rate = "--handshake-rate must be >= 0 and --handshake-burst >= 1";
  const std::string per_address =
      "--max-sessions-per-address and --max-rooms-per-address must be >= 0";
  auto framing = [](int event) {
    return "--max-event-bytes (" + std::to_string(event) +
           ") plus 512 bytes of framing must fit in --max-outbound-bytes (10000): an event the "
           "gateway accepts must never cut off a reader";
  };
  return {
      {"listen_malformed", [](auto& o) { o.listen = "8080"; }, "--listen: "},
      {"listen_port_too_big", [](auto& o) { o.listen = "127.0.0.1:65536"; }, "--listen: "},
      {"threads_zero", [](auto& o) { o.threads = 0; }, "--threads must be 1..4096"},
      {"threads_too_many", [](auto& o) { o.threads = 4097; }, "--threads must be 1..4096"},
      {"ping_interval_zero", [](auto& o) { o.ping_interval_ms = 0; }, timeouts},
      {"ping_timeout_negative", [](auto& o) { o.ping_timeout_ms = -1; }, timeouts},
      {"connect_timeout_zero", [](auto& o) { o.connect_timeout_ms = 0; }, timeouts},
      {"max_payload_zero", [](auto& o) { o.max_payload = 0; }, sizes},
      {"max_outbound_zero", [](auto& o) { o.max_outbound_bytes = 0; }, sizes},
      {"max_event_negative", [](auto& o) { o.max_event_bytes = -1; },
       "--max-event-bytes must not be negative"},
      {"max_event_over_outbound",
       [](auto& o) {
         o.max_outbound_bytes = 10000;
         o.max_event_bytes = 9489;
       },
       framing(9489)},
      // 0 means --max-payload, which must then fit too.
      {"max_event_default_over_outbound",
       [](auto& o) {
         o.max_outbound_bytes = 10000;
         o.max_payload = 9600;
       },
       framing(9600)},
      {"sid_prefix_bad_character", [](auto& o) { o.sid_prefix = "a/b"; },
       "--sid-prefix must be at most 16 characters of A-Z a-z 0-9 - _"},
      {"sid_prefix_too_long", [](auto& o) { o.sid_prefix = std::string(17, 'a'); },
       "--sid-prefix must be at most 16 characters of A-Z a-z 0-9 - _"},
      {"shutdown_grace_negative", [](auto& o) { o.shutdown_grace_ms = -1; },
       "--shutdown-grace-ms must be >= 0"},
      {"write_delay_negative", [](auto& o) { o.write_delay_ms = -1; },
       "--write-delay-ms must be in 0..100"},
      {"write_delay_over_100_ms", [](auto& o) { o.write_delay_ms = 101; },
       "--write-delay-ms must be in 0..100"},
      {"max_connections_negative", [](auto& o) { o.max_connections = -1; },
       "--max-connections must be >= 0"},
      {"max_namespaces_zero", [](auto& o) { o.max_namespaces = 0; }, rooms},
      {"max_rooms_per_socket_one", [](auto& o) { o.max_rooms_per_socket = 1; }, rooms},
      {"max_dynamic_namespaces_zero", [](auto& o) { o.max_dynamic_namespaces = 0; },
       "--max-dynamic-namespaces must be >= 1"},
      {"attachment_timeout_zero", [](auto& o) { o.attachment_timeout_ms = 0; },
       "--attachment-timeout-ms must be positive"},
      {"message_rate_negative", [](auto& o) { o.message_rate = -1; }, message_rate},
      {"message_rate_nan", [](auto& o) { o.message_rate = std::nan(""); }, message_rate},
      {"message_burst_below_one", [](auto& o) { o.message_burst = 0.5; }, message_rate},
      {"rate_limit_policy_unknown", [](auto& o) { o.rate_limit_policy = "drop"; },
       "--rate-limit-policy must be 'ack' or 'disconnect'"},
      {"handshake_rate_negative", [](auto& o) { o.handshake_rate = -0.1; }, handshake_rate},
      {"handshake_burst_nan", [](auto& o) { o.handshake_burst = std::nan(""); }, handshake_rate},
      {"max_sessions_per_address_negative", [](auto& o) { o.max_sessions_per_address = -1; },
       per_address},
      {"max_rooms_per_address_negative", [](auto& o) { o.max_rooms_per_address = -1; },
       per_address},
      {"trusted_proxy_bad_prefix",
       [](auto& o) {
         o.trusted_proxy = {"10.0.0.0/8", "1.2.3.4/99"};
       },
       "--trusted-proxy: "},
      {"max_shard_queue_zero", [](auto& o) { o.max_shard_queue_bytes = 0; },
       "--max-shard-queue-bytes must be positive"},
  };
}

class GatewayOptionsRefusesTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(GatewayOptionsRefusesTest, WithTheMessageMainPrints) {
  GatewayOptions options;
  GetParam().change(options);
  const absl::Status status = options.Validate();
  ASSERT_TRUE(absl::IsInvalidArgument(status)) << status;
  const std::string& expected = GetParam().message;
  if (expected.back() == ' ') {
    EXPECT_EQ(status.message().substr(0, expected.size()), expected) << status;
    EXPECT_GT(status.message().size(), expected.size()) << "names what is wrong";
  } else {
    EXPECT_EQ(status.message(), expected);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRange, GatewayOptionsRefusesTest, ::testing::ValuesIn(BadCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace roomq::gateway::server
