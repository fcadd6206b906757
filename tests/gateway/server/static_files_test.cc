#include "gateway/server/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace roomq::gateway::server {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("roomq-static-test-" + std::to_string(::getpid()));
    root_ = base_ / "root";
    fs::create_directories(root_ / "dir");
    std::ofstream(root_ / "index.html") << "i";
    std::ofstream(root_ / "dir" / "index.html") << "d";
    std::ofstream(root_ / "a b.txt") << "s";
    std::ofstream(base_ / "secret.txt") << "x";
    fs::create_symlink(base_ / "secret.txt", root_ / "link.txt");
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_, root_;
};

TEST_F(StaticFilesTest, ResolvesFilesAndIndexes) {
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/").value(), (root_ / "index.html").string());
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/dir").value(),
            (root_ / "dir" / "index.html").string());
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/dir/").value(),
            (root_ / "dir" / "index.html").string());
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/a%20b.txt").value(), (root_ / "a b.txt").string());
}

TEST_F(StaticFilesTest, RejectsTraversal) {
  for (const char* path : {"/../secret.txt", "/dir/../../secret.txt", "/%2e%2e/secret.txt",
                           "/..%2fsecret.txt", "/dir/..", "/%00", "/a\\..\\b", "/%zz"}) {
    auto resolved = ResolveStaticPath(root_.string(), path);
    EXPECT_FALSE(resolved.ok()) << path;
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << path;
  }
}

TEST_F(StaticFilesTest, RefusesSymlinksOutOfTheRootAndMissingFiles) {
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/link.txt").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveStaticPath(root_.string(), "/nope").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveStaticPath("", "/").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveStaticPath((base_ / "missing").string(), "/").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StaticFilesTest, ReadsBounded) {
  EXPECT_EQ(ReadFileBounded((root_ / "index.html").string()).value(), "i");
  EXPECT_EQ(ReadFileBounded((root_ / "index.html").string(), 0).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(ContentTypeFor("/x/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.js"), "application/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.js.map"), "application/json; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("a.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("noext"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.weird"), "application/octet-stream");
}

}  // namespace
}  // namespace roomq::gateway::server
