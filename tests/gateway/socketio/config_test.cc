#include "gateway/socketio/config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/socketio/namespace_registry.h"

namespace roomq::gateway::socketio {
namespace {

TEST(ConfigTest, ParsesTheFullSchema) {
  auto config = ParseConfig(R"(
namespaces:
  - name: /
    join: '.*'
    relay: broadcast
    echo: true
    forward: false
  - pattern: '^/dyn-\w+$'
    join: ''
    relay: rooms
    forward: true
    middleware: required
  - name: /quiet
    middleware: none
)");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->namespaces.size(), 3u);
  const NamespacePolicy& root = config->namespaces[0];
  EXPECT_EQ(root.name, "/");
  EXPECT_EQ(root.join, ".*");
  EXPECT_EQ(root.relay, RelayPolicy::kBroadcast);
  EXPECT_TRUE(root.echo);
  EXPECT_FALSE(root.forward);
  EXPECT_EQ(root.line, 3);
  const NamespacePolicy& dynamic = config->namespaces[1];
  EXPECT_EQ(dynamic.name, "");
  EXPECT_EQ(dynamic.pattern, "^/dyn-\\w+$");
  EXPECT_EQ(dynamic.join, "");
  EXPECT_EQ(dynamic.relay, RelayPolicy::kRooms);
  EXPECT_TRUE(dynamic.forward);
  EXPECT_TRUE(dynamic.middleware_required);
  EXPECT_FALSE(root.middleware_required) << "default: none";
  const NamespacePolicy& quiet = config->namespaces[2];
  EXPECT_EQ(quiet.join, ".*") << "default join";
  EXPECT_EQ(quiet.relay, RelayPolicy::kNone) << "default relay";
  EXPECT_FALSE(quiet.echo);
  EXPECT_FALSE(quiet.forward);
  EXPECT_FALSE(quiet.middleware_required);
}

void ExpectError(const std::string& yaml, const std::string& needle) {
  auto config = ParseConfig(yaml, "test.yaml");
  ASSERT_FALSE(config.ok()) << yaml;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(config.status().message()).find(needle), std::string::npos)
      << config.status().message();
  EXPECT_NE(std::string(config.status().message()).find("test.yaml"), std::string::npos);
}

TEST(ConfigTest, ErrorsCarryFileAndLine) {
  ExpectError("namespaces:\n  - name: /\n    relay: sometimes\n", "test.yaml:3:");
  ExpectError("namespaces:\n  - name: /\n    relay: sometimes\n", "bad relay value 'sometimes'");
  ExpectError("namespaces:\n  - name: /\n    colour: red\n", "unknown key 'colour'");
  ExpectError("namespaces:\n  - name: /\n    colour: red\n", "test.yaml:3:");
  ExpectError("namespaces:\n  - pattern: '(unclosed'\n", "bad regex");
  ExpectError("namespaces:\n  - name: /\n    join: '[z-a]'\n", "bad regex");
  // Backreferences and lookaround are not RE2; repetition stops at 1000; a
  // program over proto/base/pattern.h's budget is refused.
  ExpectError("namespaces:\n  - name: /\n    join: '(a)\\1'\n", "bad regex '(a)\\1'");
  ExpectError("namespaces:\n  - name: /\n    join: '(?=a)a'\n", "bad regex '(?=a)a'");
  ExpectError("namespaces:\n  - pattern: '^/a{1001}$'\n", "bad regex '^/a{1001}$'");
  ExpectError("namespaces:\n  - name: /\n    join: '.{1000}.{1000}'\n", "pattern too large");
  ExpectError("namespaces:\n  - name: /a\n  - name: /a\n", "duplicate namespace name '/a'");
  ExpectError("namespaces:\n  - name: /a\n  - name: /a\n", "test.yaml:3:");
  ExpectError("namespaces:\n  - pattern: x\n  - pattern: x\n", "duplicate namespace pattern");
  ExpectError("namespaces:\n  - name: chat\n", "must start with '/'");
  ExpectError("namespaces:\n  - name: /a\n    pattern: /b\n", "exactly one of");
  ExpectError("namespaces:\n  - join: x\n", "exactly one of");
  ExpectError("namespaces:\n  - name: /\n    echo: maybe\n", "'echo' must be true or false");
  ExpectError("namespaces:\n  - name: /\n    middleware: optional\n",
              "bad middleware value 'optional' (expected required or none)");
  ExpectError("namespaces:\n  - name: [1, 2]\n", "'name' must be a scalar");
  ExpectError("namespaces: {}\n", "must be a list");
  ExpectError("namespace:\n  - name: /\n", "unknown key 'namespace'");
  ExpectError("- 1\n", "must be a map");
  ExpectError("", "empty config");
  ExpectError("namespaces: [\n", "test.yaml:");
}

TEST(ConfigTest, LoadConfigFile) {
  const std::string path = ::testing::TempDir() + "/socketio_config_test.yaml";
  {
    std::ofstream out(path);
    out << "namespaces:\n  - name: /custom\n    forward: true\n";
  }
  auto config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->namespaces.size(), 1u);
  EXPECT_TRUE(config->namespaces[0].forward);
  std::remove(path.c_str());
  auto missing = LoadConfigFile(path);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(ConfigTest, AuthPolicies) {
  auto config = ParseConfig(R"(
namespaces:
  - name: /open
  - name: /none
    auth: none
  - name: /env
    auth:
      type: jwt
      secret_env: SOME_VAR
      audience: roomq
      issuer: idp
      leeway: 30s
  - pattern: '^/file-\w+$'
    auth: {type: jwt, secret_file: /etc/roomq/jwt.key}
)");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->namespaces.size(), 4u);
  EXPECT_EQ(config->namespaces[0].auth.kind, auth::AuthKind::kNone);
  EXPECT_EQ(config->namespaces[1].auth.kind, auth::AuthKind::kNone);
  const auth::AuthPolicy& env = config->namespaces[2].auth;
  EXPECT_EQ(env.kind, auth::AuthKind::kJwt);
  EXPECT_EQ(env.secret_env, "SOME_VAR");
  EXPECT_EQ(env.audience, "roomq");
  EXPECT_EQ(env.issuer, "idp");
  EXPECT_EQ(env.leeway, std::chrono::seconds(30));
  EXPECT_EQ(env.secret, "") << "ParseConfig never reads secrets";
  const auth::AuthPolicy& file = config->namespaces[3].auth;
  EXPECT_EQ(file.secret_file, "/etc/roomq/jwt.key");
  EXPECT_EQ(file.leeway, std::chrono::seconds(5)) << "default leeway";
}

TEST(ConfigTest, AuthErrors) {
  const std::string head = "namespaces:\n  - name: /\n    auth:";
  ExpectError(head + " jwt\n", "'auth' must be none or a map");
  ExpectError(head + " {type: oauth, secret_env: X}\n", "bad auth type 'oauth'");
  ExpectError(head + " {secret_env: X}\n", "needs 'type'");
  ExpectError(head + " {type: jwt}\n", "exactly one of 'secret_env' and 'secret_file'");
  ExpectError(head + " {type: jwt, secret_env: X, secret_file: Y}\n", "exactly one of");
  ExpectError(head + " {type: jwt, secret_env: ''}\n", "'secret_env' must not be empty");
  ExpectError(head + " {type: none, secret_env: X}\n", "auth type none takes no secret");
  ExpectError(head + " {type: jwt, secret_env: X, leeway: 1h}\n", "bad leeway '1h'");
  ExpectError(head + " {type: jwt, secret_env: X, leeway: 301s}\n", "bad leeway '301s'");
  ExpectError(head + " {type: jwt, secret_env: X, leeway: soon}\n", "bad leeway");
  ExpectError(head + " {type: jwt, secret_env: X, leeway: 1500ms}\n",
              "bad leeway '1500ms' (whole seconds)");
  ExpectError(head + " {type: jwt, secret_env: X, leeway: 5}\n", "needs a unit");
  ExpectError(head + " {type: jwt, secret_env: X, algorithm: RS256}\n",
              "unknown key in 'auth': 'algorithm'");
  ExpectError(head + " {type: jwt, secret_env: [X]}\n", "'secret_env' must be a scalar");
}

TEST(ConfigTest, LoadSecretsFromEnvironmentAndFile) {
  constexpr char kVar[] = "ROOMQ_CONFIG_TEST_SECRET";
  const std::string key_path = ::testing::TempDir() + "/socketio_config_test.key";
  auto config = ParseConfig(absl::StrCat(R"(
namespaces:
  - name: /env
    auth: {type: jwt, secret_env: ROOMQ_CONFIG_TEST_SECRET}
  - name: /file
    auth: {type: jwt, secret_file: ')",
                                         key_path, R"('}
)"));
  ASSERT_TRUE(config.ok()) << config.status();

  ::unsetenv(kVar);
  {
    std::ofstream out(key_path);
    out << "file-secret-value-of-at-least-32-bytes\n";
  }
  Config unset = *config;
  absl::Status status = LoadSecrets(unset);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("ROOMQ_CONFIG_TEST_SECRET is unset or empty"),
            std::string::npos)
      << status;
  ::setenv(kVar, "", 1);
  Config empty = *config;
  EXPECT_FALSE(LoadSecrets(empty).ok());

  // 31 bytes: too short to resist an offline guess from one token.
  ::setenv(kVar, "env-secret-value-of-31-bytes-xx", 1);
  Config short_secret = *config;
  status = LoadSecrets(short_secret);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("is 31 bytes; at least 32"), std::string::npos)
      << status;
  EXPECT_EQ(std::string(status.message()).find("env-secret-value"), std::string::npos)
      << "never the secret itself";

  ::setenv(kVar, "env-secret-value-of-32-bytes-xxx", 1);
  Config loaded = *config;
  ASSERT_TRUE(LoadSecrets(loaded).ok());
  EXPECT_EQ(loaded.namespaces[0].auth.secret, "env-secret-value-of-32-bytes-xxx");
  EXPECT_EQ(loaded.namespaces[1].auth.secret, "file-secret-value-of-at-least-32-bytes")
      << "trailing newline dropped";

  {
    std::ofstream out(key_path, std::ios::trunc);
    out << "\n";
  }
  Config empty_file = *config;
  status = LoadSecrets(empty_file);
  EXPECT_NE(std::string(status.message()).find("is empty"), std::string::npos) << status;
  std::remove(key_path.c_str());
  Config missing_file = *config;
  status = LoadSecrets(missing_file);
  EXPECT_NE(std::string(status.message()).find("cannot read secret_file"), std::string::npos)
      << status;
  // No message ever carries a secret value.
  EXPECT_EQ(std::string(status.message()).find("secret-value"), std::string::npos);
  ::unsetenv(kVar);
}

TEST(ConfigTest, LoadConfigFileFailsOnAMissingSecret) {
  const std::string path = ::testing::TempDir() + "/socketio_config_auth_test.yaml";
  {
    std::ofstream out(path);
    out << "namespaces:\n  - name: /a\n    auth: {type: jwt, secret_env: "
           "ROOMQ_CONFIG_TEST_UNSET}\n";
  }
  ::unsetenv("ROOMQ_CONFIG_TEST_UNSET");
  auto config = LoadConfigFile(path);
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(config.status().message()).find(path), std::string::npos);
  ::setenv("ROOMQ_CONFIG_TEST_UNSET", "k", 1);
  EXPECT_EQ(LoadConfigFile(path).status().code(), absl::StatusCode::kInvalidArgument)
      << "a 1-byte secret";
  ::setenv("ROOMQ_CONFIG_TEST_UNSET", std::string(kMinJwtSecretBytes, 'k').c_str(), 1);
  EXPECT_TRUE(LoadConfigFile(path).ok());
  ::unsetenv("ROOMQ_CONFIG_TEST_UNSET");
  std::remove(path.c_str());
}

TEST(ConfigTest, DefaultConfigIsAnOpenRootNamespace) {
  Config config = DefaultConfig();
  ASSERT_EQ(config.namespaces.size(), 1u);
  EXPECT_EQ(config.namespaces[0].name, "/");
  EXPECT_EQ(config.namespaces[0].relay, RelayPolicy::kBroadcast);
  EXPECT_FALSE(config.namespaces[0].echo);
  EXPECT_FALSE(config.namespaces[0].forward);
  NamespaceRegistry registry(config);
  const Namespace* root = registry.Find("/");
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->MayJoin("anything"));
  EXPECT_EQ(registry.Find("/other"), nullptr);
}

TEST(NamespaceRegistryTest, StaticAndDynamicNamespaces) {
  auto config = ParseConfig(R"(
namespaces:
  - name: /
  - name: /dyn-fixed
    relay: none
  - pattern: '^/dyn-\w+$'
    join: 'room-\d+'
    relay: rooms
)");
  ASSERT_TRUE(config.ok()) << config.status();
  NamespaceRegistry registry(*config);
  const Namespace* fixed = registry.Find("/dyn-fixed");
  ASSERT_NE(fixed, nullptr);
  EXPECT_FALSE(fixed->dynamic) << "exact names win over patterns";
  EXPECT_EQ(fixed->policy->relay, RelayPolicy::kNone);

  EXPECT_EQ(registry.Find("/dyn-a"), nullptr) << "a dynamic name exists only once acquired";
  EXPECT_EQ(registry.Resolve("/dyn-a"), &config->namespaces[2]);
  auto a = registry.Acquire("/dyn-a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->get()->dynamic);
  EXPECT_EQ(a->get()->name, "/dyn-a");
  EXPECT_EQ(a->get()->policy->relay, RelayPolicy::kRooms);
  EXPECT_EQ(registry.Find("/dyn-a"), a->get());
  auto again = registry.Acquire("/dyn-a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), a->get()) << "created once";
  auto b = registry.Acquire("/dyn-b");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b->get(), a->get()) << "each name is its own namespace";
  EXPECT_EQ(registry.dynamic_count(), 2u);

  for (const char* unknown : {"/dyn-", "/dyn-a/b", "/other", ""}) {
    EXPECT_EQ(registry.Resolve(unknown), nullptr) << unknown;
    EXPECT_TRUE(absl::IsNotFound(registry.Acquire(unknown).status())) << unknown;
  }
  EXPECT_EQ(registry.dynamic_count(), 2u);

  EXPECT_TRUE(a->get()->MayJoin("room-12"));
  EXPECT_FALSE(a->get()->MayJoin("room-12x")) << "join regex must match the whole name";
  EXPECT_FALSE(a->get()->MayJoin(""));
}

TEST(NamespaceRegistryTest, EmptyJoinForbidsJoining) {
  auto config = ParseConfig("namespaces:\n  - name: /\n    join: ''\n");
  ASSERT_TRUE(config.ok());
  NamespaceRegistry registry(*config);
  EXPECT_FALSE(registry.Find("/")->MayJoin("a"));
}

TEST(NamespaceRegistryTest, PublishDefaultsToTheJoinPattern) {
  auto config = ParseConfig(R"(
namespaces:
  - name: /
    join: 'public-.*'
  - name: /closed
    join: ''
  - name: /news
    join: '.*'
    publish: 'news-[a-z]+'
  - name: /readonly
    publish: ''
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_FALSE(config->namespaces[0].publish.has_value());
  EXPECT_EQ(config->namespaces[2].publish, "news-[a-z]+");
  NamespaceRegistry registry(*config);
  EXPECT_TRUE(registry.Find("/")->MayPublish("public-1"));
  EXPECT_FALSE(registry.Find("/")->MayPublish("staff-only"));
  EXPECT_FALSE(registry.Find("/closed")->MayPublish("anything"));
  EXPECT_TRUE(registry.Find("/news")->MayJoin("staff"));
  EXPECT_FALSE(registry.Find("/news")->MayPublish("staff"));
  EXPECT_TRUE(registry.Find("/news")->MayPublish("news-daily"));
  EXPECT_FALSE(registry.Find("/news")->MayPublish("news-daily!")) << "whole-name match";
  EXPECT_TRUE(registry.Find("/readonly")->MayJoin("anything"));
  EXPECT_FALSE(registry.Find("/readonly")->MayPublish("anything"));
  ExpectError("namespaces:\n  - name: /\n    publish: '[z-a]'\n", "bad regex");
}

TEST(NamespaceRegistryTest, ResolveCreatesNothing) {
  auto config = ParseConfig("namespaces:\n  - pattern: '/d\\d+'\n");
  ASSERT_TRUE(config.ok());
  NamespaceRegistry registry(*config, 2);
  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(registry.Resolve("/d" + std::to_string(i)), nullptr);
  }
  EXPECT_EQ(registry.dynamic_count(), 0u);
  EXPECT_EQ(registry.Find("/d1"), nullptr);
}

TEST(NamespaceRegistryTest, TheLastHolderFreesADynamicNamespace) {
  auto config = ParseConfig("namespaces:\n  - name: /\n  - pattern: '/d\\d+'\n");
  ASSERT_TRUE(config.ok());
  NamespaceRegistry registry(*config);
  {
    auto first = registry.Acquire("/d1");
    ASSERT_TRUE(first.ok());
    {
      auto second = registry.Acquire("/d1");
      ASSERT_TRUE(second.ok());
    }
    EXPECT_NE(registry.Find("/d1"), nullptr) << "still held by the first";
    NamespaceRef moved = *std::move(first);
    // NOLINTNEXTLINE(bugprone-use-after-move): what a moved-from reference holds is the point
    EXPECT_EQ(first->get(), nullptr) << "moved from: empty";
    EXPECT_EQ(registry.dynamic_count(), 1u);
  }
  EXPECT_EQ(registry.Find("/d1"), nullptr);
  EXPECT_EQ(registry.dynamic_count(), 0u);
  // Static namespaces stay whoever held them.
  { auto root = registry.Acquire("/"); }
  EXPECT_NE(registry.Find("/"), nullptr);
}

TEST(NamespaceRegistryTest, DynamicNamespacesAreBounded) {
  auto config = ParseConfig("namespaces:\n  - pattern: '/d\\d+'\n");
  ASSERT_TRUE(config.ok());
  NamespaceRegistry registry(*config, 2);
  auto d1 = registry.Acquire("/d1");
  auto d2 = registry.Acquire("/d2");
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(registry.Acquire("/d3").status()));
  EXPECT_EQ(registry.Find("/d3"), nullptr) << "nothing created at the bound";
  EXPECT_TRUE(registry.Acquire("/d1").ok()) << "existing ones can still be joined";
  d2->Reset();
  EXPECT_TRUE(registry.Acquire("/d3").ok()) << "freed room for a new one";
}

}  // namespace
}  // namespace roomq::gateway::socketio
