#ifndef ROOMQ_TESTS_SUPPORT_FREE_PORT_H_
#define ROOMQ_TESTS_SUPPORT_FREE_PORT_H_

// A loopback TCP port that was free a moment ago (bound to port 0, read,
// closed), for a process that must be told a port before it starts, e.g.
// the two brokers of a pair, each given the other's pair endpoint. Another
// process may take it in between; loopback ports are plenty, so tests
// accept that.

namespace roomq::test_support {

int FreeLoopbackPort();

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_FREE_PORT_H_
