// ParseHostPort (proto/base/host_port.h): what every roomq listening address
// accepts (--listen, --metrics-listen, --metrics-bind).

#include "proto/base/host_port.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"

namespace roomq::base {
namespace {

TEST(ParseHostPort, AcceptsHostsAndPorts) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("127.0.0.1:8080");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 8080);

  parsed = ParseHostPort("localhost:0");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->port, 0);

  parsed = ParseHostPort("0.0.0.0:65535");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->port, 65535);
}

TEST(ParseHostPort, IPv6InBracketsLosesTheBrackets) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("[::1]:9000");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 9000);

  parsed = ParseHostPort("[fd00::17]:0");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "fd00::17");
  EXPECT_EQ(parsed->port, 0);

  // The port is after the last ':', so an unbracketed IPv6 host still splits.
  parsed = ParseHostPort("::1:80");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 80);
}

TEST(ParseHostPort, RefusesWhatIsNotHostColonPort) {
  for (const char* bad :
       {"", "8080", "localhost", "[::1]", ":8080", "[]:8080", "host:", "host:65536",
        "host:99999999999", "host:-1", "host:+80", "host: 80", "host:80 ", "host:x", "host:8o"}) {
    const absl::StatusOr<HostPort> parsed = ParseHostPort(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << '"' << bad << "\" " << parsed.status();
  }
}

TEST(ParseHostPort, SaysWhatIsWrong) {
  EXPECT_EQ(ParseHostPort("localhost").status().message(), "expected HOST:PORT");
  EXPECT_EQ(ParseHostPort("host:65536").status().message(), "port must be 0..65535");
  EXPECT_EQ(ParseHostPort("[]:80").status().message(), "empty host");
}

}  // namespace
}  // namespace roomq::base
