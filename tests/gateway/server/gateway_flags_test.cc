// roomq-gateway's flags (gateway/server/gateway_flags.h) parsed the way its
// main.cc parses them: every flag lands in its GatewayOptions member, the
// repeatable ones take comma lists, and a malformed value is a parse error
// naming the flag.

#include "gateway/server/gateway_flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/server/gateway_options.h"
#include "proto/base/command_line.h"

namespace roomq::gateway::server {
namespace {

// Parses `args` (argv without argv[0]) into `options`.
absl::Status Parse(const std::vector<std::string>& args, GatewayOptions& options) {
  CLI::App app{"gateway flags test", "roomq-gateway"};
  base::UseRoomqConventions(app);
  AddGatewayOptions(app, options);
  return base::ParseCommandLine(app, args);
}

TEST(GatewayFlagsTest, NoFlagsKeepTheDefaults) {
  GatewayOptions options;
  ASSERT_TRUE(Parse({}, options).ok());
  const GatewayOptions defaults;
  EXPECT_EQ(options.listen, defaults.listen);
  EXPECT_EQ(options.metrics_listen, defaults.metrics_listen);
  EXPECT_EQ(options.threads, defaults.threads);
  EXPECT_EQ(options.broker_pub, defaults.broker_pub);
  EXPECT_EQ(options.broker_sub, defaults.broker_sub);
  EXPECT_EQ(options.ping_interval_ms, defaults.ping_interval_ms);
  EXPECT_EQ(options.max_payload, defaults.max_payload);
  EXPECT_TRUE(options.cors_origin.empty());
  EXPECT_TRUE(options.trusted_proxy.empty());
  EXPECT_EQ(options.message_rate, defaults.message_rate);
  EXPECT_EQ(options.rate_limit_policy, defaults.rate_limit_policy);
  EXPECT_TRUE(options.Validate().ok());
}

TEST(GatewayFlagsTest, EveryFlagLandsInItsMember) {
  GatewayOptions options;
  const absl::Status parsed = Parse(
      {
          "--listen=[::1]:9000",
          "--metrics-listen",
          "127.0.0.1:0",
          "--threads=3",
          "--broker-pub=tcp://10.0.0.1:5555",
          "--broker-sub=tcp://10.0.0.1:5556",
          "--curve-server-key=broker.pub",
          "--curve-secret-key=gateway.key",
          "--config=namespaces.yaml",
          "--ping-interval-ms=1000",
          "--ping-timeout-ms=2000",
          "--connect-timeout-ms=3000",
          "--max-payload=4096",
          "--cors-origin=https://a.example,https://b.example",
          "--cors-origin",
          "https://c.example",
          "--static-dir=/srv/web",
          "--client-dir=/srv/client",
          "--sid-prefix=gw-1",
          "--max-outbound-bytes=65536",
          "--max-event-bytes=8192",
          "--max-shard-queue-bytes=123456",
          "--max-connections=77",
          "--handshake-rate=2.5",
          "--handshake-burst=9",
          "--max-sessions-per-address=11",
          "--max-rooms-per-address=12",
          "--trusted-proxy=10.0.0.0/8,fd00::/8",
          "--max-namespaces=4",
          "--max-dynamic-namespaces=5",
          "--attachment-timeout-ms=6000",
          "--max-rooms-per-socket=7",
          "--message-rate=0.5",
          "--message-burst=3",
          "--shutdown-grace-ms=250",
          "--write-delay-ms=10",
          "--rate-limit-policy=disconnect",
      },
      options);
  ASSERT_TRUE(parsed.ok()) << parsed;
  EXPECT_EQ(options.listen, "[::1]:9000");
  EXPECT_EQ(options.metrics_listen, "127.0.0.1:0");
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.broker_pub, "tcp://10.0.0.1:5555");
  EXPECT_EQ(options.broker_sub, "tcp://10.0.0.1:5556");
  EXPECT_EQ(options.curve_server_key, "broker.pub");
  EXPECT_EQ(options.curve_secret_key, "gateway.key");
  EXPECT_EQ(options.config, "namespaces.yaml");
  EXPECT_EQ(options.ping_interval_ms, 1000);
  EXPECT_EQ(options.ping_timeout_ms, 2000);
  EXPECT_EQ(options.connect_timeout_ms, 3000);
  EXPECT_EQ(options.max_payload, 4096);
  EXPECT_EQ(options.cors_origin, (std::vector<std::string>{"https://a.example", "https://b.example",
                                                           "https://c.example"}));
  EXPECT_EQ(options.static_dir, "/srv/web");
  EXPECT_EQ(options.client_dir, "/srv/client");
  EXPECT_EQ(options.sid_prefix, "gw-1");
  EXPECT_EQ(options.max_outbound_bytes, 65536);
  EXPECT_EQ(options.max_event_bytes, 8192);
  EXPECT_EQ(options.max_shard_queue_bytes, 123456);
  EXPECT_EQ(options.max_connections, 77);
  EXPECT_EQ(options.handshake_rate, 2.5);
  EXPECT_EQ(options.handshake_burst, 9);
  EXPECT_EQ(options.max_sessions_per_address, 11);
  EXPECT_EQ(options.max_rooms_per_address, 12);
  EXPECT_EQ(options.trusted_proxy, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
  EXPECT_EQ(options.max_namespaces, 4);
  EXPECT_EQ(options.max_dynamic_namespaces, 5);
  EXPECT_EQ(options.attachment_timeout_ms, 6000);
  EXPECT_EQ(options.max_rooms_per_socket, 7);
  EXPECT_EQ(options.message_rate, 0.5);
  EXPECT_EQ(options.message_burst, 3);
  EXPECT_EQ(options.shutdown_grace_ms, 250);
  EXPECT_EQ(options.write_delay_ms, 10);
  EXPECT_EQ(options.rate_limit_policy, "disconnect");
  EXPECT_TRUE(options.Validate().ok()) << options.Validate();
}

TEST(GatewayFlagsTest, ARepeatedScalarTakesItsLastValue) {
  GatewayOptions options;
  ASSERT_TRUE(Parse({"--threads=2", "--threads=5"}, options).ok());
  EXPECT_EQ(options.threads, 5);
}

TEST(GatewayFlagsTest, AMalformedValueIsAParseErrorNamingTheFlag) {
  for (const char* bad : {"--threads=many", "--max-payload=1e3x", "--message-rate=fast"}) {
    GatewayOptions options;
    const absl::Status parsed = Parse({bad}, options);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed)) << bad << ": " << parsed;
    const std::string flag = std::string(bad).substr(0, std::string(bad).find('='));
    EXPECT_NE(parsed.message().find(flag), std::string::npos) << bad << ": " << parsed;
  }
  GatewayOptions options;
  EXPECT_TRUE(absl::IsInvalidArgument(Parse({"--no-such-flag=1"}, options)));
}

}  // namespace
}  // namespace roomq::gateway::server
