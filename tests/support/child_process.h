#ifndef ROOMQ_TESTS_SUPPORT_CHILD_PROCESS_H_
#define ROOMQ_TESTS_SUPPORT_CHILD_PROCESS_H_

// A child process for integration tests: runs an executable in its own
// process group, captures stdout and stderr line by line on a reader thread,
// and lets the test wait (with a deadline) for a line matching a regex.
//
// Thread safety: every public method may be called from any thread; the
// captured lines are guarded by a mutex. The destructor SIGKILLs the whole
// process group (the child and anything it spawned), reaps the child and
// joins the reader thread, so a failing test never leaks processes.
//
// Limits: lines longer than kMaxLineBytes are split; at most kMaxLines lines
// are kept (older ones are dropped, WaitForLine cursors stay valid).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace roomq::test_support {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// now + timeout: the usual way to build a Deadline.
inline Deadline DeadlineIn(std::chrono::milliseconds timeout) { return Clock::now() + timeout; }

inline constexpr size_t kMaxLineBytes = size_t{64} * 1024;
inline constexpr size_t kMaxLines = 100000;

enum class Stream { kStdout, kStderr };

struct ChildOptions {
  // Shown in echoed output and error messages; defaults to the file name.
  std::string name;
  // Echo every captured line to this process's stderr as "[name] line", so
  // ctest --output-on-failure shows what the child said.
  bool echo = true;
  // Give the child a pipe as stdin (see WriteStdin/CloseStdin); otherwise
  // its stdin is /dev/null.
  bool pipe_stdin = false;
  // Extra "KEY=VALUE" entries added to (or overriding) the inherited environment.
  std::vector<std::string> extra_env;
};

// How a child ended.
struct ExitStatus {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the terminating signal, 0 when it exited normally

  bool exited_ok() const { return signal == 0 && exit_code == 0; }
  std::string ToString() const;  // "exit 0", "signal 9 (Killed)"
};

class ChildProcess {
 public:
  // Starts `path` with `args` (argv[1..]). InvalidArgument when `path` is not
  // an executable file; Internal when pipe/fork fails. An exec failure in the
  // child shows up as exit code 127 with a line saying why.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::string& path,
                                                             const std::vector<std::string>& args,
                                                             ChildOptions options = {});

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return options_.name; }

  // Waits until a line (from `stream`, or from either when nullopt) that
  // `pattern` matches somewhere (std::regex_search) was captured after the
  // cursor, returns it and moves the cursor past it: successive calls find
  // successive lines. There is one cursor per `stream` value (stdout,
  // stderr, either), so waiting on stderr never skips stdout lines; lines
  // of the two pipes interleave in arrival order. DeadlineExceeded on timeout, FailedPrecondition
  // once the child closed its output without such a line; both messages end with the last captured
  // lines.
  absl::StatusOr<std::string> WaitForLine(const std::regex& pattern, Deadline deadline,
                                          std::optional<Stream> stream = std::nullopt);
  absl::StatusOr<std::string> WaitForLine(const std::regex& pattern,
                                          std::chrono::milliseconds timeout,
                                          std::optional<Stream> stream = std::nullopt) {
    return WaitForLine(pattern, DeadlineIn(timeout), stream);
  }

  // All lines captured so far (of `stream`, or of both), without moving the cursor.
  std::vector<std::string> Lines(std::optional<Stream> stream = std::nullopt) const;
  // How many captured lines match `pattern`, without moving the cursor.
  int CountLines(const std::regex& pattern, std::optional<Stream> stream = std::nullopt) const;

  // Sends `signal` to the child (not its group). FailedPrecondition once it was reaped.
  absl::Status Signal(int signal);
  // SIGKILLs the whole process group and reaps the child.
  void Kill();

  // Waits until the child exits and reaps it. DeadlineExceeded while it still runs.
  absl::StatusOr<ExitStatus> Wait(Deadline deadline);
  absl::StatusOr<ExitStatus> Wait(std::chrono::milliseconds timeout) {
    return Wait(DeadlineIn(timeout));
  }
  // True while the child has not exited.
  bool Running();

  // Writes to the child's stdin (needs ChildOptions::pipe_stdin).
  absl::Status WriteStdin(std::string_view data);
  // Closes the child's stdin so it sees EOF.
  void CloseStdin();

 private:
  struct Line {
    Stream stream;
    std::string text;
  };

  ChildProcess(pid_t pid, int out_fd, int err_fd, int stdin_fd, int wake_fd_read, int wake_fd_write,
               ChildOptions options);
  void ReadLoop() ABSL_LOCKS_EXCLUDED(mutex_);
  void AddLine(Stream stream, std::string text) ABSL_LOCKS_EXCLUDED(mutex_);
  // Reaps the child if it has exited; true when it has been reaped. `block` waits.
  bool Reap(bool block) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reap_mutex_);
  std::string TailLocked(size_t count) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool OutputClosed() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return output_closed_; }

  const pid_t pid_;
  const int out_fd_;
  const int err_fd_;
  int stdin_fd_;
  const int wake_read_fd_;
  const int wake_write_fd_;
  const ChildOptions options_;

  absl::Mutex reap_mutex_;
  std::optional<ExitStatus> exit_status_ ABSL_GUARDED_BY(reap_mutex_);

  mutable absl::Mutex mutex_;
  absl::CondVar changed_;  // signalled on every new line and at the end of output
  std::deque<Line> lines_ ABSL_GUARDED_BY(mutex_);
  uint64_t first_index_ ABSL_GUARDED_BY(mutex_) = 0;  // index of lines_.front()
  // WaitForLine's next line per stream filter.
  uint64_t cursors_[3] ABSL_GUARDED_BY(mutex_) = {0, 0, 0};
  bool output_closed_ ABSL_GUARDED_BY(mutex_) = false;

  std::thread reader_;
};

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_CHILD_PROCESS_H_
