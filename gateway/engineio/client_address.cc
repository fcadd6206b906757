#include "gateway/engineio/client_address.h"

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <charconv>
#include <optional>

#include "absl/strings/str_cat.h"

namespace roomq::gateway::engineio {
namespace {

namespace ip = boost::asio::ip;

std::string_view Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port <= 65535;
}

std::optional<IpAddress> ParseAddress(std::string_view text) {
  boost::system::error_code ec;
  IpAddress address = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return address;
}

// One X-Forwarded-For hop: an address, "[v6]", "[v6]:port" or "v4:port".
std::optional<IpAddress> ParseHop(std::string_view hop) {
  hop = Trim(hop);
  if (hop.empty()) return std::nullopt;
  if (hop.front() == '[') {
    const size_t close = hop.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = hop.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !IsPort(rest.substr(1)))) return std::nullopt;
    std::optional<IpAddress> address = ParseAddress(hop.substr(1, close - 1));
    if (!address || !address->is_v6()) return std::nullopt;
    return address;
  }
  const size_t colon = hop.find(':');
  if (colon != std::string_view::npos && hop.find(':', colon + 1) == std::string_view::npos) {
    // Exactly one colon: IPv4 with a port.
    if (!IsPort(hop.substr(colon + 1))) return std::nullopt;
    std::optional<IpAddress> address = ParseAddress(hop.substr(0, colon));
    if (!address || !address->is_v4()) return std::nullopt;
    return address;
  }
  return ParseAddress(hop);
}

// The first `bits` bits of `bytes`, the rest zeroed.
std::array<uint8_t, 16> Masked(std::array<uint8_t, 16> bytes, unsigned bits) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bits >= 8) {
      bits -= 8;
    } else {
      bytes[i] = static_cast<uint8_t>(bytes[i] & (0xff00u >> bits));
      bits = 0;
    }
  }
  return bytes;
}

// The address's bytes (IPv4 in the first 4) and whether it is IPv6, unmapped.
std::array<uint8_t, 16> BytesOf(const IpAddress& address, bool* v6) {
  const IpAddress plain = Unmapped(address);
  std::array<uint8_t, 16> bytes{};
  *v6 = plain.is_v6();
  if (*v6) {
    const ip::address_v6::bytes_type b = plain.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  } else {
    const ip::address_v4::bytes_type b = plain.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), bytes.begin());
  }
  return bytes;
}

}  // namespace

IpAddress Unmapped(const IpAddress& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

absl::StatusOr<IpRange> IpRange::Parse(std::string_view text) {
  const std::string_view original = text;
  text = Trim(text);
  std::string_view address_text = text;
  std::optional<unsigned> prefix;
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    const std::string_view bits = text.substr(slash + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), value);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a CIDR range (bad prefix length): ", std::string(original)));
    }
    prefix = value;
  }
  std::optional<IpAddress> address = ParseAddress(address_text);
  if (!address) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a CIDR range (bad address): ", std::string(original)));
  }
  IpRange range;
  range.bytes_ = BytesOf(*address, &range.v6_);
  const unsigned width = range.v6_ ? 128 : 32;
  // A mapped IPv4 range "::ffff:10.0.0.0/104" is the IPv4 range /8.
  if (prefix && !range.v6_ && address->is_v6()) {
    if (*prefix < 96) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a CIDR range (mapped IPv4 prefix under 96): ", std::string(original)));
    }
    *prefix -= 96;
  }
  range.prefix_ = prefix.value_or(width);
  if (range.prefix_ > width) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a CIDR range (prefix longer than the address): ", std::string(original)));
  }
  range.bytes_ = Masked(range.bytes_, range.prefix_);
  return range;
}

bool IpRange::Contains(const IpAddress& address) const {
  bool v6 = false;
  const std::array<uint8_t, 16> bytes = BytesOf(address, &v6);
  return v6 == v6_ && Masked(bytes, prefix_) == bytes_;
}

std::string IpRange::ToString() const {
  std::string address;
  if (v6_) {
    ip::address_v6::bytes_type b;
    std::copy(bytes_.begin(), bytes_.end(), b.begin());
    address = ip::address_v6(b).to_string();
  } else {
    address = ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]}).to_string();
  }
  return absl::StrCat(address, "/", prefix_);
}

bool IsTrustedProxy(const TrustedProxies& trusted, const IpAddress& address) {
  return std::any_of(trusted.begin(), trusted.end(),
                     [&](const IpRange& range) { return range.Contains(address); });
}

IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for,
                        const TrustedProxies& trusted) {
  if (trusted.empty() || Trim(forwarded_for).empty() || !IsTrustedProxy(trusted, peer)) {
    return peer;
  }
  // From the right: skip trusted proxies; the first other hop decides.
  std::string_view rest = forwarded_for;
  std::optional<IpAddress> leftmost;
  while (true) {
    const size_t comma = rest.rfind(',');
    const std::string_view hop = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    std::optional<IpAddress> address = ParseHop(hop);
    if (!address) return peer;
    if (!IsTrustedProxy(trusted, *address)) return *address;
    leftmost = address;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(0, comma);
  }
  return *leftmost;
}

std::string ForwardedFor(const boost::beast::http::fields& headers) {
  std::string joined;
  auto [it, end] = headers.equal_range("X-Forwarded-For");
  for (; it != end; ++it) {
    if (!joined.empty()) joined += ", ";
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

AddressKey AddressKey::Of(const IpAddress& address) {
  AddressKey key;
  key.bytes = BytesOf(address, &key.v6);
  if (key.v6) key.bytes = Masked(key.bytes, 64);
  return key;
}

std::string AddressKey::ToString() const {
  if (!v6) return ip::address_v4({bytes[0], bytes[1], bytes[2], bytes[3]}).to_string();
  ip::address_v6::bytes_type b;
  std::copy(bytes.begin(), bytes.end(), b.begin());
  return absl::StrCat(ip::address_v6(b).to_string(), "/64");
}

}  // namespace roomq::gateway::engineio
