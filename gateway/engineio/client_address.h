#ifndef ROOMQ_GATEWAY_ENGINEIO_CLIENT_ADDRESS_H_
#define ROOMQ_GATEWAY_ENGINEIO_CLIENT_ADDRESS_H_

// Which client a handshake comes from, for the per-address limits
// (address_table.h): the TCP peer, or, behind a trusted load balancer, the
// address it forwarded in X-Forwarded-For; and the group an address counts
// in.
//
// X-Forwarded-For is read only when the TCP peer is in a trusted proxy
// range (--trusted-proxy). Each proxy appends the address it received the
// request from, so the hops are read from the right: trusted proxies are
// skipped, and the first hop that is not one is the client. Hops to the
// left of it were written by the client itself and are never read, so a
// client can neither choose its address nor, by writing garbage there, make
// the gateway fall back to the proxy's address (which every client behind
// the proxy shares). When every hop is a trusted proxy, the leftmost one is
// the client. When the header is missing or empty, or the hop that decides
// is not an address, the TCP peer is the client. A hop is an IPv4 or IPv6
// address, optionally with a port ("192.0.2.1:80", "[2001:db8::1]:443"),
// with spaces or tabs around it; several X-Forwarded-For header lines read
// as one list, in order.
//
// Groups (AddressKey): an IPv4 address is its own group. An IPv6 address
// counts in its /64: one subscriber usually holds a whole /64, so a limit per
// single IPv6 address would be none. An IPv4-mapped IPv6 address
// (::ffff:192.0.2.1, what a dual-stack socket reports) is the IPv4 address,
// both for the groups and for the trusted proxy ranges.
//
// Thread safety: plain values and pure functions.

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace roomq::gateway::engineio {

using IpAddress = boost::asio::ip::address;

// ::ffff:a.b.c.d as a.b.c.d; any other address as it is.
IpAddress Unmapped(const IpAddress& address);

// A CIDR range: "10.0.0.0/8", "2001:db8::/32"; a bare address is a /32
// (IPv4) or a /128 (IPv6). Host bits below the prefix are ignored.
class IpRange {
 public:
  // InvalidArgument naming what is wrong.
  static absl::StatusOr<IpRange> Parse(std::string_view text);

  bool Contains(const IpAddress& address) const;
  std::string ToString() const;

 private:
  std::array<uint8_t, 16> bytes_{};  // IPv4: the first 4
  bool v6_ = false;
  unsigned prefix_ = 0;
};

// The ranges of --trusted-proxy; empty: X-Forwarded-For is never read.
using TrustedProxies = std::vector<IpRange>;

bool IsTrustedProxy(const TrustedProxies& trusted, const IpAddress& address);

// The client of a request whose TCP peer is `peer` and whose X-Forwarded-For
// value (all its lines joined with ",") is `forwarded_for`; as above.
IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for,
                        const TrustedProxies& trusted);

// Every X-Forwarded-For line of `headers`, in order, joined with ", ";
// empty without one.
std::string ForwardedFor(const boost::beast::http::fields& headers);

// The group an address counts in (see above): 17 bytes, hashable.
struct AddressKey {
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4; IPv6: the first 8 (its /64)
  bool v6 = false;

  static AddressKey Of(const IpAddress& address);
  // "192.0.2.1" or "2001:db8:1:2::/64", for logs.
  std::string ToString() const;

  friend bool operator==(const AddressKey& a, const AddressKey& b) {
    return a.v6 == b.v6 && a.bytes == b.bytes;
  }
  template <typename H>
  friend H AbslHashValue(H h, const AddressKey& key) {
    return H::combine(std::move(h), key.bytes, key.v6);
  }
};

}  // namespace roomq::gateway::engineio

#endif  // ROOMQ_GATEWAY_ENGINEIO_CLIENT_ADDRESS_H_
