#include "gateway/server/host_port.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::gateway::server {
namespace {

TEST(ParseHostPort, AcceptsHostsAndPorts) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:8080", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(ParseHostPort("localhost:0", &host, &port).ok());
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseHostPort("[::1]:9000", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"8080", ":8080", "host:", "host:65536", "host:-1", "host:x"}) {
    EXPECT_FALSE(ParseHostPort(bad, &host, &port).ok()) << bad;
  }
}

}  // namespace
}  // namespace roomq::gateway::server
