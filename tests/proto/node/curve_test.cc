#include "proto/node/curve.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace roomq::node {
namespace {

namespace fs = std::filesystem;

class CurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::path(::testing::TempDir()) / "curve_keys_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(CurveKeysTest, GeneratedPairRoundTripsThroughFiles) {
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  ASSERT_TRUE(WriteCurveKeyPair(*pair, dir_ + "/node").ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto secret = LoadCurveSecretKey(dir_ + "/node.key");
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->secret_key, pair->secret_key);
  EXPECT_EQ(secret->public_key, pair->public_key);  // derived from the secret key
  auto pub = LoadCurvePublicKey(dir_ + "/node.pub");
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(*pub, pair->public_key);
  EXPECT_EQ(WriteCurveKeyPair(*pair, dir_ + "/node").code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(CurveKeysTest, CommentsBlankLinesAndWhitespaceAreIgnored) {
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  auto key = LoadCurvePublicKey(Write("a.pub", "# comment\n\n   " + pair->public_key + "  \r\n\n"));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, pair->public_key);
}

TEST_F(CurveKeysTest, BadKeyFilesAreInvalidArgumentNamingThePath) {
  auto pair = GenerateCurveKeyPair();
  ASSERT_TRUE(pair.ok());
  const std::string two = Write("two.pub", pair->public_key + "\n" + pair->public_key + "\n");
  const std::string none = Write("none.pub", "# only a comment\n");
  const std::string short_key = Write("short.pub", "abc\n");
  std::string bad_chars = pair->public_key;
  bad_chars[3] = '"';  // not in the Z85 alphabet
  const std::string bad = Write("bad.pub", bad_chars + "\n");
  for (const std::string& path : {two, none, short_key, bad}) {
    auto key = LoadCurvePublicKey(path);
    ASSERT_FALSE(key.ok()) << path;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << key.status();
    EXPECT_NE(key.status().message().find(path), std::string_view::npos) << key.status();
  }
  auto missing = LoadCurvePublicKey(dir_ + "/missing.pub");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.pub"), std::string_view::npos);
}

TEST_F(CurveKeysTest, KeyDirLoadsEveryPubFileOnceAndNothingElse) {
  auto a = GenerateCurveKeyPair();
  auto b = GenerateCurveKeyPair();
  ASSERT_TRUE(a.ok() && b.ok());
  fs::create_directories(dir_ + "/clients");
  Write("clients/a.pub", a->public_key + "\n");
  Write("clients/a-copy.pub", a->public_key + "\n");
  Write("clients/b.pub", b->public_key + "\n");
  Write("clients/README", "not a key\n");
  Write("clients/b.key", b->secret_key + "\n");
  auto keys = LoadCurvePublicKeyDir(dir_ + "/clients");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_NE(std::find(keys->begin(), keys->end(), a->public_key), keys->end());
  EXPECT_NE(std::find(keys->begin(), keys->end(), b->public_key), keys->end());

  fs::create_directories(dir_ + "/empty");
  EXPECT_EQ(LoadCurvePublicKeyDir(dir_ + "/empty").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadCurvePublicKeyDir(dir_ + "/nope").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CurveKeysTest, ClientOptionsNeedBothFilesOrNeither) {
  auto off = LoadCurveClientOptions("", "");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled());
  EXPECT_EQ(LoadCurveClientOptions("server.pub", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadCurveClientOptions("", "node.key").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto server = GenerateCurveKeyPair();
  auto node = GenerateCurveKeyPair();
  ASSERT_TRUE(server.ok() && node.ok());
  ASSERT_TRUE(WriteCurveKeyPair(*server, dir_ + "/server").ok());
  ASSERT_TRUE(WriteCurveKeyPair(*node, dir_ + "/node").ok());
  auto on = LoadCurveClientOptions(dir_ + "/server.pub", dir_ + "/node.key");
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->enabled());
  EXPECT_EQ(on->server_public_key, server->public_key);
  EXPECT_EQ(on->client.public_key, node->public_key);
  // The server's secret key where its public key belongs is caught only if
  // malformed; a wrong but valid key fails at the handshake (see the ZAP test).
  EXPECT_EQ(LoadCurveClientOptions(dir_ + "/server.pub", dir_ + "/missing.key").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roomq::node
