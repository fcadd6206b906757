// WaitUntil: the one poll-until-deadline loop of the C++ tests.
//
// It waits for a condition that another thread or process makes true (a
// server thread, a child process, a socket peer); it never makes anything
// happen itself, so it is not a sleep standing in for an injected clock.
// A `condition` may do bounded work of its own (scrape a page, poll a
// socket for a few ms): that is how a test looks, not how time passes.
//
// Thread safety: none needed; `condition` runs on the calling thread only.
#ifndef ROOMQ_TESTS_SUPPORT_WAIT_UNTIL_H_
#define ROOMQ_TESTS_SUPPORT_WAIT_UNTIL_H_

#include <chrono>
#include <functional>
#include <thread>

namespace roomq::test_support {

// Calls `condition` until it returns true (true) or `timeout` has passed
// (false), sleeping `interval` between calls. `condition` is called at least
// once, and once more after the deadline, so a condition that turned true
// during the last sleep is not reported as a timeout.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5),
                      std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_WAIT_UNTIL_H_
