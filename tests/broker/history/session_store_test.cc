// Unit tests of broker/history/session_store: ttl, claim once, the cap.

#include "broker/history/session_store.h"

#include <gtest/gtest.h>

namespace roomq::broker::history {
namespace {

using std::chrono::milliseconds;
using Clock = SessionStore::Clock;

v1::Session MakeSession(const std::string& pid) {
  v1::Session session;
  session.set_pid(pid);
  session.set_namespace_("/chat");
  session.set_socket_id("sid-" + pid);
  session.add_rooms("sid-" + pid);
  session.add_rooms("general");
  return session;
}

TEST(SessionStoreTest, AClaimReturnsTheSessionOnce) {
  SessionStore store({});
  const Clock::time_point now{};
  ASSERT_TRUE(store.Save(MakeSession("p1"), milliseconds(1000), now).ok());
  auto claimed = store.Claim("p1", now + milliseconds(999));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->socket_id(), "sid-p1");
  EXPECT_EQ(claimed->rooms_size(), 2);
  EXPECT_TRUE(absl::IsNotFound(store.Claim("p1", now).status()));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStoreTest, ExpiresAfterItsTtlClampedToTheMax) {
  SessionStore store({100, milliseconds(500)});
  const Clock::time_point now{};
  ASSERT_TRUE(store.Save(MakeSession("short"), milliseconds(100), now).ok());
  ASSERT_TRUE(store.Save(MakeSession("long"), milliseconds(100000), now).ok());
  EXPECT_TRUE(absl::IsNotFound(store.Claim("short", now + milliseconds(100)).status()));
  EXPECT_EQ(store.Expire(now + milliseconds(499)), 0u);
  EXPECT_EQ(store.Expire(now + milliseconds(500)), 1u);  // clamped to 500 ms
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStoreTest, SavingAgainReplacesTheSessionAndItsDeadline) {
  SessionStore store({});
  const Clock::time_point now{};
  ASSERT_TRUE(store.Save(MakeSession("p"), milliseconds(100), now).ok());
  v1::Session newer = MakeSession("p");
  newer.add_rooms("extra");
  ASSERT_TRUE(store.Save(newer, milliseconds(1000), now + milliseconds(50)).ok());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Expire(now + milliseconds(200)), 0u);
  auto claimed = store.Claim("p", now + milliseconds(200));
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->rooms_size(), 3);
}

TEST(SessionStoreTest, AtTheCapTheSoonestToExpireIsEvicted) {
  SessionStore store({2, milliseconds(100000)});
  const Clock::time_point now{};
  ASSERT_TRUE(store.Save(MakeSession("a"), milliseconds(5000), now).ok());
  ASSERT_TRUE(store.Save(MakeSession("b"), milliseconds(1000), now).ok());
  ASSERT_TRUE(store.Save(MakeSession("c"), milliseconds(3000), now).ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.evicted(), 1u);
  EXPECT_TRUE(store.Claim("b", now).status().code() == absl::StatusCode::kNotFound);
  EXPECT_TRUE(store.Claim("a", now).ok());
  EXPECT_TRUE(store.Claim("c", now).ok());
}

TEST(SessionStoreTest, OverMaxBytesTheSoonestToExpireIsEvicted) {
  const size_t one = MakeSession("a").ByteSizeLong();
  SessionStore store({100, milliseconds(100000), 2 * one + 1});
  const Clock::time_point now{};
  ASSERT_TRUE(store.Save(MakeSession("a"), milliseconds(5000), now).ok());
  ASSERT_TRUE(store.Save(MakeSession("b"), milliseconds(1000), now).ok());
  ASSERT_TRUE(store.Save(MakeSession("c"), milliseconds(3000), now).ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_LE(store.bytes(), 2 * one + 1);
  EXPECT_FALSE(store.Claim("b", now).ok());
  // Saving the same pid again does not count twice.
  ASSERT_TRUE(store.Save(MakeSession("a"), milliseconds(5000), now).ok());
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.evicted(), 1u);
}

TEST(SessionStoreTest, RefusesSessionsWithoutPidNamespaceOrTtl) {
  SessionStore store({});
  v1::Session session = MakeSession("p");
  EXPECT_FALSE(store.Save(session, milliseconds(0), {}).ok());
  session.clear_pid();
  EXPECT_FALSE(store.Save(session, milliseconds(10), {}).ok());
  session = MakeSession("p");
  session.clear_namespace_();
  EXPECT_FALSE(store.Save(session, milliseconds(10), {}).ok());
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace roomq::broker::history
