#include "proto/base/random_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace roomq::base {
namespace {

bool IsBase64Url(const std::string& id) {
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

TEST(RandomBytes, GivesTheCountAskedFor) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

// The lengths the gateway's ids rely on: socket ids (12 bytes), Engine.IO
// sids (15) and private session ids (16, unpadded).
TEST(RandomUrlId, UnpaddedBase64UrlOfTheLengthsIdsUse) {
  struct Case {
    size_t bytes;
    size_t chars;
  };
  for (const Case& c : {Case{12, 16}, Case{15, 20}, Case{16, 22}, Case{1, 2}}) {
    const size_t bytes = c.bytes;
    const size_t chars = c.chars;
    const std::string id = RandomUrlId(bytes);
    EXPECT_EQ(id.size(), chars) << bytes;
    EXPECT_TRUE(IsBase64Url(id)) << id;
  }
}

TEST(RandomUrlId, ThePaddingBitsOfA22CharacterIdAreZero) {
  // 16 bytes leave 4 spare bits in the last character: it is one of the 16
  // characters whose low 4 bits are 0 (A Q g w), as the gateway wrote it.
  for (int i = 0; i < 64; ++i) {
    const char last = RandomUrlId(16).back();
    EXPECT_TRUE(last == 'A' || last == 'Q' || last == 'g' || last == 'w') << last;
  }
}

TEST(RandomUrlId, DoesNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(RandomUrlId(12)).second);
}

}  // namespace
}  // namespace roomq::base
