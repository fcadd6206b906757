#ifndef ROOMQ_PROTO_BASE_START_THREAD_H_
#define ROOMQ_PROTO_BASE_START_THREAD_H_

// StartThread: how roomq's libraries start a thread of their own.
//
// spdlog's default logger lives in a function-local static inside libspdlog.
// Whichever thread logs first makes it, and the threads that log later learn
// of it through that static's guard, an acquire inside a library that is not
// built for ThreadSanitizer: to TSan every later log line then races with
// the logger's making. StartThread makes the logger in the starting thread,
// before the new thread exists, so thread creation (which TSan sees) orders
// the two. See tests/tsan/suppressions.txt for what is left.

#include <thread>
#include <utility>

namespace roomq::base {

// Makes spdlog's default logger if no thread has yet.
void MakeDefaultLogger();

template <typename Body>
std::thread StartThread(Body&& body) {
  MakeDefaultLogger();
  return std::thread(std::forward<Body>(body));
}

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_START_THREAD_H_
