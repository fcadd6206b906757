// OpenTransports / OpenTransportToken: the per-thread count of open
// connections that tells a graceful shutdown when every transport closed.

#include "gateway/engineio/open_transports.h"

#include <gtest/gtest.h>

#include <thread>

namespace roomq::gateway::engineio {
namespace {

TEST(OpenTransports, WhenNoneOpenRunsAtOnceOrWhenTheLastTokenGoes) {
  // A fresh thread: a count of its own.
  std::thread([] {
    const auto& count = OpenTransports::ForThisThread();
    int calls = 0;
    count->WhenNoneOpen([&] { ++calls; });
    EXPECT_EQ(calls, 1);  // nothing open: at once

    OpenTransportToken a = OpenTransportToken::Acquire();
    OpenTransportToken b = OpenTransportToken::Acquire();
    EXPECT_EQ(count->open(), 2u);
    count->WhenNoneOpen([&] { ++calls; });
    a.Release();
    a.Release();  // idempotent
    EXPECT_EQ(count->open(), 1u);
    EXPECT_EQ(calls, 1);
    OpenTransportToken moved = std::move(b);  // still one
    EXPECT_EQ(count->open(), 1u);
    moved = OpenTransportToken();  // released by assignment
    EXPECT_EQ(count->open(), 0u);
    EXPECT_EQ(calls, 2);
    // The waiter ran once; later tokens do not call it again.
    { OpenTransportToken c = OpenTransportToken::Acquire(); }
    EXPECT_EQ(calls, 2);
  }).join();
}

TEST(OpenTransports, EachThreadCountsItsOwn) {
  OpenTransportToken here = OpenTransportToken::Acquire();
  const size_t open_here = OpenTransports::ForThisThread()->open();
  std::thread([] { EXPECT_EQ(OpenTransports::ForThisThread()->open(), 0u); }).join();
  EXPECT_EQ(OpenTransports::ForThisThread()->open(), open_here);
}

TEST(OpenTransports, ATokenOutlivingItsThreadIsReleasedSafely) {
  // What teardown does: the io thread is gone, its leftover handlers (and
  // tokens) are destroyed on another thread.
  OpenTransportToken token;
  bool ran = false;
  std::thread([&] {
    token = OpenTransportToken::Acquire();
    OpenTransports::ForThisThread()->WhenNoneOpen([&] { ran = true; });
  }).join();
  EXPECT_FALSE(ran);
  token.Release();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace roomq::gateway::engineio
