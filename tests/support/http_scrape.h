#ifndef ROOMQ_TESTS_SUPPORT_HTTP_SCRAPE_H_
#define ROOMQ_TESTS_SUPPORT_HTTP_SCRAPE_H_

// Plain-socket HTTP for tests of the broker's /metrics endpoint (which
// answers one request per connection and closes): raw requests, so tests can
// also send garbage, and a reader for Prometheus text samples.
// Thread safety: pure functions.

#include <optional>
#include <string>

namespace roomq::test_support {

// Sends `request` to 127.0.0.1:port, shuts down the sending side and returns
// everything the server sent until it closed ("" when nothing answered; each
// receive is bounded by 5 s).
std::string HttpExchange(int port, const std::string& request);

// HttpExchange of "GET <path> HTTP/1.1".
std::string HttpGet(int port, const std::string& path);

// The value of the sample line "<name> <value>" in Prometheus text (`name`
// includes any labels, e.g. `dropped_total{reason="hwm"}`).
std::optional<double> PrometheusSample(const std::string& text, const std::string& name);

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_HTTP_SCRAPE_H_
