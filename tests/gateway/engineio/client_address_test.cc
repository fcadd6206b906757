// Which client a handshake comes from: trusted proxy ranges, the
// X-Forwarded-For walk (rightmost hop that is not a trusted proxy, never a
// hop the client wrote), and the groups addresses count in (IPv4 whole,
// IPv6 by /64, mapped IPv4 as IPv4).

#include "gateway/engineio/client_address.h"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <string>

namespace roomq::gateway::engineio {
namespace {

IpAddress Ip(const std::string& text) { return boost::asio::ip::make_address(text); }

TrustedProxies Trusted(std::initializer_list<const char*> ranges) {
  TrustedProxies trusted;
  for (const char* text : ranges) {
    auto range = IpRange::Parse(text);
    EXPECT_TRUE(range.ok()) << text << ": " << range.status();
    if (range.ok()) trusted.push_back(*range);
  }
  return trusted;
}

TEST(IpRange, ParsesCidrAndBareAddresses) {
  auto v4 = IpRange::Parse("10.1.2.3/8");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ToString(), "10.0.0.0/8");
  EXPECT_TRUE(v4->Contains(Ip("10.255.0.1")));
  EXPECT_FALSE(v4->Contains(Ip("11.0.0.1")));
  EXPECT_TRUE(v4->Contains(Ip("::ffff:10.9.9.9"))) << "a mapped IPv4 peer is IPv4";
  EXPECT_FALSE(v4->Contains(Ip("::a01:203"))) << "an IPv6 address is not in an IPv4 range";

  auto host = IpRange::Parse(" 127.0.0.1 ");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->ToString(), "127.0.0.1/32");
  EXPECT_TRUE(host->Contains(Ip("127.0.0.1")));
  EXPECT_FALSE(host->Contains(Ip("127.0.0.2")));

  auto v6 = IpRange::Parse("2001:db8::/32");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->Contains(Ip("2001:db9::1")));

  auto mapped = IpRange::Parse("::ffff:192.168.0.0/112");
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->ToString(), "192.168.0.0/16");

  auto everything = IpRange::Parse("0.0.0.0/0");
  ASSERT_TRUE(everything.ok());
  EXPECT_TRUE(everything->Contains(Ip("203.0.113.1")));
}

TEST(IpRange, RefusesWhatIsNotARange) {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "::/129", "host/8",
                          "10.0.0.0/8x", "10.0.0.0/-1", "::ffff:10.0.0.0/95"}) {
    EXPECT_FALSE(IpRange::Parse(bad).ok()) << bad;
  }
}

TEST(ClientAddress, WithoutATrustedPeerForwardedForIsIgnored) {
  const IpAddress peer = Ip("198.51.100.1");
  EXPECT_EQ(ClientAddress(peer, "203.0.113.9", {}), peer) << "nothing trusted";
  EXPECT_EQ(ClientAddress(peer, "203.0.113.9", Trusted({"10.0.0.0/8"})), peer)
      << "the peer is not a trusted proxy: anyone could write the header";
}

TEST(ClientAddress, TheRightmostHopThatIsNotATrustedProxyIsTheClient) {
  const TrustedProxies trusted = Trusted({"10.0.0.0/8", "2001:db8:ffff::/48"});
  const IpAddress lb = Ip("10.0.0.2");
  EXPECT_EQ(ClientAddress(lb, "203.0.113.9", trusted), Ip("203.0.113.9"));
  // What the client wrote itself is left of what the proxy appended.
  EXPECT_EQ(ClientAddress(lb, "1.2.3.4, 203.0.113.9", trusted), Ip("203.0.113.9"));
  // A chain of trusted proxies is skipped.
  EXPECT_EQ(ClientAddress(lb, "1.2.3.4, 203.0.113.9, 10.0.0.7, 2001:db8:ffff::5", trusted),
            Ip("203.0.113.9"));
  // A client claiming to be a trusted proxy only adds a hop to skip.
  EXPECT_EQ(ClientAddress(lb, "10.0.0.99, 203.0.113.9", trusted), Ip("203.0.113.9"));
  // Every hop trusted: the leftmost.
  EXPECT_EQ(ClientAddress(lb, "10.0.0.5, 10.0.0.7", trusted), Ip("10.0.0.5"));
  // Ports, brackets and blanks.
  EXPECT_EQ(ClientAddress(lb, " 203.0.113.9:5555 ", trusted), Ip("203.0.113.9"));
  EXPECT_EQ(ClientAddress(lb, "[2001:db8:1::7]:443", trusted), Ip("2001:db8:1::7"));
  EXPECT_EQ(ClientAddress(lb, "\t2001:db8:1::7", trusted), Ip("2001:db8:1::7"));
  EXPECT_EQ(ClientAddress(lb, "[2001:db8:1::7]", trusted), Ip("2001:db8:1::7"));
  // A mapped IPv4 peer is matched as IPv4.
  EXPECT_EQ(ClientAddress(Ip("::ffff:10.0.0.2"), "203.0.113.9", trusted), Ip("203.0.113.9"));
}

TEST(ClientAddress, GarbageTheClientWroteIsNeverRead) {
  const TrustedProxies trusted = Trusted({"10.0.0.0/8"});
  // Were the whole header required to parse, this client would fall back
  // to the proxy's address, which every client behind it shares.
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), "garbage,,[x, 203.0.113.9", trusted), Ip("203.0.113.9"));
}

TEST(ClientAddress, AMalformedDecidingHopMeansThePeer) {
  const TrustedProxies trusted = Trusted({"10.0.0.0/8"});
  const IpAddress lb = Ip("10.0.0.2");
  for (const char* bad : {"", "  ", "unknown", "203.0.113.9,", "203.0.113.9:99999",
                          "203.0.113.9:", "[203.0.113.9]", "[2001:db8::1", "2001:db8::1]:80",
                          "203.0.113.9, 10.0.0.7, nonsense", "1.2.3.4.5", "1.2.3.4:80:90"}) {
    EXPECT_EQ(ClientAddress(lb, bad, trusted), lb) << "'" << bad << "'";
  }
}

TEST(ClientAddress, SeveralHeaderLinesReadAsOneList) {
  boost::beast::http::fields headers;
  EXPECT_EQ(ForwardedFor(headers), "");
  headers.insert("X-Forwarded-For", "1.2.3.4");
  headers.insert("x-forwarded-for", "203.0.113.9");
  EXPECT_EQ(ForwardedFor(headers), "1.2.3.4, 203.0.113.9");
  EXPECT_EQ(ClientAddress(Ip("10.0.0.2"), ForwardedFor(headers), Trusted({"10.0.0.0/8"})),
            Ip("203.0.113.9"));
}

TEST(AddressKey, IPv4IsItsOwnGroupIPv6CountsByItsSlash64) {
  EXPECT_EQ(AddressKey::Of(Ip("192.0.2.1")).ToString(), "192.0.2.1");
  EXPECT_FALSE(AddressKey::Of(Ip("192.0.2.1")) == AddressKey::Of(Ip("192.0.2.2")));
  EXPECT_TRUE(AddressKey::Of(Ip("::ffff:192.0.2.1")) == AddressKey::Of(Ip("192.0.2.1")));

  const AddressKey a = AddressKey::Of(Ip("2001:db8:1:2:aaaa::1"));
  EXPECT_EQ(a.ToString(), "2001:db8:1:2::/64");
  EXPECT_TRUE(a == AddressKey::Of(Ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(a == AddressKey::Of(Ip("2001:db8:1:3::1")));
  // An IPv4 address and an IPv6 /64 with the same leading bytes differ.
  EXPECT_FALSE(AddressKey::Of(Ip("32.1.13.184")) == AddressKey::Of(Ip("2001:db8::")));
}

}  // namespace
}  // namespace roomq::gateway::engineio
