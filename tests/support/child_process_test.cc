#include "tests/support/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>

#include "tests/support/binaries.h"
#include "tests/support/wait_until.h"

namespace roomq::test_support {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<ChildProcess> StartShell(const std::string& script, ChildOptions options = {}) {
  options.name = "sh";
  auto child = ChildProcess::Start("/bin/sh", {"-c", script}, std::move(options));
  EXPECT_TRUE(child.ok()) << child.status();
  return child.ok() ? std::move(*child) : nullptr;
}

// True once `pid` is gone or a zombie (no reaper may run in a container).
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  const size_t paren = content.rfind(')');
  return paren != std::string::npos && paren + 2 < content.size() && content[paren + 2] == 'Z';
}

TEST(ChildProcess, FindsSuccessiveLinesOnBothStreams) {
  auto child = StartShell("echo 'ready port=1'; echo 'oops' >&2; echo 'ready port=2'; exit 3");
  ASSERT_NE(child, nullptr);
  const std::regex ready("ready port=(\\d)");
  auto first = child->WaitForLine(ready, milliseconds(5000));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "ready port=1");
  auto second = child->WaitForLine(ready, milliseconds(5000));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "ready port=2");

  auto exit = child->Wait(milliseconds(5000));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->exit_code, 3);
  EXPECT_EQ(exit->signal, 0);
  EXPECT_FALSE(exit->exited_ok());
  // All output is in once the pipes closed.
  EXPECT_TRUE(child->WaitForLine(std::regex("^oops$"), milliseconds(5000), Stream::kStderr).ok());
  EXPECT_EQ(child->Lines(Stream::kStdout).size(), 2u);
  EXPECT_EQ(child->CountLines(std::regex("ready")), 2);
}

TEST(ChildProcess, StreamFilterIgnoresTheOtherStream) {
  auto child = StartShell("echo 'same' >&2; echo 'other'");
  ASSERT_NE(child, nullptr);
  auto line = child->WaitForLine(std::regex("same"), milliseconds(5000), Stream::kStdout);
  EXPECT_TRUE(absl::IsFailedPrecondition(line.status())) << line.status();
  EXPECT_EQ(child->Lines(Stream::kStderr), std::vector<std::string>{"same"});
  EXPECT_EQ(child->Lines(Stream::kStdout), std::vector<std::string>{"other"});
}

TEST(ChildProcess, TimesOutWhileTheChildIsSilent) {
  auto child = StartShell("sleep 30");
  ASSERT_NE(child, nullptr);
  const auto start = Clock::now();
  auto line = child->WaitForLine(std::regex("never"), milliseconds(100));
  EXPECT_TRUE(absl::IsDeadlineExceeded(line.status())) << line.status();
  EXPECT_GE(Clock::now() - start, milliseconds(100));
  EXPECT_TRUE(child->Running());
  EXPECT_TRUE(absl::IsDeadlineExceeded(child->Wait(milliseconds(20)).status()));
}

TEST(ChildProcess, ReportsAnExitWithoutTheLineAtOnce) {
  auto child = StartShell("echo bye");
  ASSERT_NE(child, nullptr);
  const auto start = Clock::now();
  auto line = child->WaitForLine(std::regex("never"), milliseconds(5000));
  EXPECT_TRUE(absl::IsFailedPrecondition(line.status())) << line.status();
  EXPECT_NE(line.status().message().find("bye"), std::string_view::npos);
  EXPECT_LT(Clock::now() - start, milliseconds(4000));
}

TEST(ChildProcess, SignalEndsTheChild) {
  auto child = StartShell("echo up; exec sleep 30");
  ASSERT_NE(child, nullptr);
  ASSERT_TRUE(child->WaitForLine(std::regex("up"), milliseconds(5000)).ok());
  ASSERT_TRUE(child->Signal(SIGTERM).ok());
  auto exit = child->Wait(milliseconds(5000));
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(exit->signal, SIGTERM);
  EXPECT_EQ(exit->ToString().rfind("signal 15", 0), 0u) << exit->ToString();
  EXPECT_FALSE(child->Signal(SIGTERM).ok());  // reaped: never signal a recycled pid
}

TEST(ChildProcess, KillTakesTheWholeGroup) {
  auto child = StartShell("sleep 30 & echo grandchild=$!; wait");
  ASSERT_NE(child, nullptr);
  auto line = child->WaitForLine(std::regex("grandchild=\\d+"), milliseconds(5000));
  ASSERT_TRUE(line.ok()) << line.status();
  const pid_t grandchild = std::stoi(line->substr(line->find('=') + 1));
  ASSERT_FALSE(ProcessGone(grandchild));
  child->Kill();
  EXPECT_FALSE(child->Running());
  WaitUntil([&] { return ProcessGone(grandchild); });
  EXPECT_TRUE(ProcessGone(grandchild));
}

TEST(ChildProcess, DestructorKillsTheChild) {
  pid_t pid = 0;
  {
    auto child = StartShell("exec sleep 30");
    ASSERT_NE(child, nullptr);
    pid = child->pid();
  }
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(ChildProcess, PipesStdinAndPassesEnvironment) {
  ChildOptions options;
  options.pipe_stdin = true;
  options.extra_env = {"ROOMQ_TEST_VALUE=forty-two"};
  auto child = StartShell(
      "echo \"env=$ROOMQ_TEST_VALUE\"; while read l; do echo \"got $l\"; done; echo eof", options);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->WaitForLine(std::regex("^env=forty-two$"), milliseconds(5000)).ok());
  ASSERT_TRUE(child->WriteStdin("hello\n").ok());
  EXPECT_TRUE(child->WaitForLine(std::regex("^got hello$"), milliseconds(5000)).ok());
  child->CloseStdin();
  EXPECT_TRUE(child->WaitForLine(std::regex("^eof$"), milliseconds(5000)).ok());
  EXPECT_FALSE(child->WriteStdin("late\n").ok());
  auto exit = child->Wait(milliseconds(5000));
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->exited_ok());
}

TEST(ChildProcess, RejectsANonExecutable) {
  EXPECT_TRUE(absl::IsInvalidArgument(ChildProcess::Start("/nonexistent/binary", {}).status()));
}

TEST(Binaries, PointIntoTheBuildBinDir) {
  EXPECT_EQ(BinaryPath("roomq-broker"), std::string(kBinDir) + "/roomq-broker");
  EXPECT_EQ(kBinDir.substr(kBinDir.size() - 4), "/bin");
}

}  // namespace
}  // namespace roomq::test_support
