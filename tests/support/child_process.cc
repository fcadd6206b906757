#include "tests/support/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

extern char** environ;

namespace roomq::test_support {
namespace {

void CloseFd(int fd) {
  if (fd >= 0) ::close(fd);
}

// Writes all of `data` to `fd`, retrying on EINTR; false on any other error.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::vector<std::string> BuildEnvironment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    vars[std::string(entry.substr(0, eq))] = std::string(entry);
  }
  for (const std::string& entry : extra) {
    const size_t eq = entry.find('=');
    vars[entry.substr(0, eq)] = entry;
  }
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (auto& [key, entry] : vars) env.push_back(std::move(entry));
  return env;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (signal != 0) return absl::StrCat("signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit ", exit_code);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& path, const std::vector<std::string>& args, ChildOptions options) {
  if (::access(path.c_str(), X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("not an executable: ", path));
  }
  if (options.name.empty()) {
    const size_t slash = path.rfind('/');
    options.name = slash == std::string::npos ? path : path.substr(slash + 1);
  }

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(path);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(argv_storage.size() + 1);
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = BuildEnvironment(options.extra_env);
  std::vector<char*> envp;
  envp.reserve(env_storage.size() + 1);
  for (std::string& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  int wake_pipe[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {out_pipe, err_pipe, in_pipe, wake_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(wake_pipe, O_CLOEXEC) != 0 ||
      (options.pipe_stdin && ::pipe2(in_pipe, O_CLOEXEC) != 0)) {
    const int err = errno;
    close_all();
    return absl::InternalError(absl::StrCat("pipe: ", strerror(err)));
  }
  // Writing to a child that closed its stdin must fail, not kill the test.
  if (options.pipe_stdin) ::signal(SIGPIPE, SIG_IGN);
  const int dev_null = options.pipe_stdin ? -1 : ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    close_all();
    CloseFd(dev_null);
    return absl::InternalError(absl::StrCat("fork: ", strerror(err)));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    // The test runner may ignore or block signals; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::dup2(options.pipe_stdin ? in_pipe[0] : dev_null, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execve(path.c_str(), argv.data(), envp.data());
    static constexpr char kMessage[] = "child_process: execve failed\n";
    [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so Kill() works even before the child ran
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  CloseFd(in_pipe[0]);
  CloseFd(dev_null);
  return std::unique_ptr<ChildProcess>(new ChildProcess(
      pid, out_pipe[0], err_pipe[0], in_pipe[1], wake_pipe[0], wake_pipe[1], std::move(options)));
}

ChildProcess::ChildProcess(pid_t pid, int out_fd, int err_fd, int stdin_fd, int wake_read_fd,
                           int wake_write_fd, ChildOptions options)
    : pid_(pid),
      out_fd_(out_fd),
      err_fd_(err_fd),
      stdin_fd_(stdin_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      options_(std::move(options)),
      reader_([this] { ReadLoop(); }) {}

ChildProcess::~ChildProcess() {
  Kill();
  // A grandchild that left the group could keep the pipes open; the wake
  // pipe ends the reader regardless.
  WriteAll(wake_write_fd_, "x");
  reader_.join();
  CloseFd(out_fd_);
  CloseFd(err_fd_);
  CloseFd(stdin_fd_);
  CloseFd(wake_read_fd_);
  CloseFd(wake_write_fd_);
}

void ChildProcess::ReadLoop() {
  std::string partial[2];
  bool open[2] = {true, true};
  const int fds[2] = {out_fd_, err_fd_};
  char buffer[16384];
  while (open[0] || open[1]) {
    pollfd items[3] = {{open[0] ? fds[0] : -1, POLLIN, 0},
                       {open[1] ? fds[1] : -1, POLLIN, 0},
                       {wake_read_fd_, POLLIN, 0}};
    if (::poll(items, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (items[2].revents != 0) break;
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || items[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        open[i] = false;
        continue;
      }
      const Stream stream = i == 0 ? Stream::kStdout : Stream::kStderr;
      partial[i].append(buffer, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = partial[i].find('\n', start)) != std::string::npos; start = nl + 1) {
        AddLine(stream, partial[i].substr(start, nl - start));
      }
      partial[i].erase(0, start);
      while (partial[i].size() >= kMaxLineBytes) {
        AddLine(stream, partial[i].substr(0, kMaxLineBytes));
        partial[i].erase(0, kMaxLineBytes);
      }
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (!partial[i].empty()) AddLine(i == 0 ? Stream::kStdout : Stream::kStderr, partial[i]);
  }
  absl::MutexLock lock(&mutex_);
  output_closed_ = true;
  changed_.SignalAll();
}

void ChildProcess::AddLine(Stream stream, std::string text) {
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (options_.echo) {
    std::cerr << "[" << options_.name << "] " << text << std::endl;
  }
  absl::MutexLock lock(&mutex_);
  lines_.push_back({stream, std::move(text)});
  if (lines_.size() > kMaxLines) {
    lines_.pop_front();
    ++first_index_;
  }
  changed_.SignalAll();
}

std::string ChildProcess::TailLocked(size_t count) const {
  std::string tail = absl::StrCat("\n--- last lines of ", options_.name, " ---");
  const size_t begin = lines_.size() > count ? lines_.size() - count : 0;
  for (size_t i = begin; i < lines_.size(); ++i) absl::StrAppend(&tail, "\n", lines_[i].text);
  return tail;
}

absl::StatusOr<std::string> ChildProcess::WaitForLine(const std::regex& pattern, Deadline deadline,
                                                      std::optional<Stream> stream) {
  absl::MutexLock lock(&mutex_);
  uint64_t& cursor = cursors_[stream.has_value() ? 1 + static_cast<int>(*stream) : 0];
  while (true) {
    if (cursor < first_index_) cursor = first_index_;
    for (; cursor - first_index_ < lines_.size(); ++cursor) {
      const Line& line = lines_[cursor - first_index_];
      if (stream.has_value() && line.stream != *stream) continue;
      if (std::regex_search(line.text, pattern)) {
        ++cursor;
        return line.text;
      }
    }
    if (output_closed_) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.name, " closed its output without the awaited line", TailLocked(20)));
    }
    if (changed_.WaitWithTimeout(&mutex_, absl::FromChrono(deadline - Clock::now())) &&
        cursor - first_index_ >= lines_.size() && !output_closed_) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out waiting for a line from ", options_.name, TailLocked(20)));
    }
  }
}

std::vector<std::string> ChildProcess::Lines(std::optional<Stream> stream) const {
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> out;
  for (const Line& line : lines_) {
    if (!stream.has_value() || line.stream == *stream) out.push_back(line.text);
  }
  return out;
}

int ChildProcess::CountLines(const std::regex& pattern, std::optional<Stream> stream) const {
  absl::MutexLock lock(&mutex_);
  int count = 0;
  for (const Line& line : lines_) {
    if ((!stream.has_value() || line.stream == *stream) && std::regex_search(line.text, pattern)) {
      ++count;
    }
  }
  return count;
}

bool ChildProcess::Reap(bool block) {
  if (exit_status_.has_value()) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  ExitStatus exit;
  if (r < 0) {
    exit.exit_code = -1;  // already reaped elsewhere (should not happen)
  } else if (WIFSIGNALED(status)) {
    exit.signal = WTERMSIG(status);
  } else {
    exit.exit_code = WEXITSTATUS(status);
  }
  exit_status_ = exit;
  return true;
}

absl::Status ChildProcess::Signal(int signal) {
  absl::MutexLock lock(&reap_mutex_);
  if (exit_status_.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(options_.name, " already exited"));
  }
  if (::kill(pid_, signal) != 0) {
    return absl::InternalError(absl::StrCat("kill: ", strerror(errno)));
  }
  return absl::OkStatus();
}

void ChildProcess::Kill() {
  absl::MutexLock lock(&reap_mutex_);
  // Only while the child is unreaped: its pid (= the group id) cannot have
  // been reused yet, so the signal reaches nothing but our own processes.
  if (exit_status_.has_value()) return;
  ::kill(-pid_, SIGKILL);
  Reap(/*block=*/true);
}

absl::StatusOr<ExitStatus> ChildProcess::Wait(Deadline deadline) {
  ExitStatus exit;
  while (true) {
    {
      absl::MutexLock lock(&reap_mutex_);
      if (Reap(/*block=*/false)) {
        exit = *exit_status_;
        break;
      }
    }
    if (Clock::now() >= deadline) {
      absl::MutexLock lock(&mutex_);
      return absl::DeadlineExceededError(
          absl::StrCat(options_.name, " is still running", TailLocked(20)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The child is gone, but the reader may still be turning its last output
  // into lines: callers count and match lines right after Wait, so wait for
  // the pipes' end of file too (at most 1 s: a grandchild could hold them
  // open).
  absl::MutexLock lock(&mutex_);
  mutex_.AwaitWithTimeout(absl::Condition(this, &ChildProcess::OutputClosed), absl::Seconds(1));
  return exit;
}

bool ChildProcess::Running() {
  absl::MutexLock lock(&reap_mutex_);
  return !Reap(/*block=*/false);
}

absl::Status ChildProcess::WriteStdin(std::string_view data) {
  if (stdin_fd_ < 0) return absl::FailedPreconditionError("stdin is not a pipe (or was closed)");
  if (!WriteAll(stdin_fd_, data)) {
    return absl::UnavailableError(absl::StrCat("write to stdin: ", strerror(errno)));
  }
  return absl::OkStatus();
}

void ChildProcess::CloseStdin() {
  CloseFd(stdin_fd_);
  stdin_fd_ = -1;
}

}  // namespace roomq::test_support
