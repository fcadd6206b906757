#include "clients/loadgen/proc_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace roomq::loadgen {
namespace {

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<ProcSample> SampleProcess(pid_t pid) {
  const std::string dir = absl::StrCat("/proc/", pid);
  auto stat = ReadAll(dir + "/stat");
  if (!stat.ok()) return stat.status();
  // The command name (field 2) may hold spaces: fields are counted after the
  // last ')'. Field 3 (state) is the first one after it.
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return absl::DataLossError(absl::StrCat("bad ", dir, "/stat"));
  std::istringstream fields(stat->substr(paren + 1));
  std::string skip;
  for (int field = 3; field <= 13; ++field) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return absl::DataLossError(absl::StrCat("bad ", dir, "/stat"));
  const long ticks = sysconf(_SC_CLK_TCK);

  auto statm = ReadAll(dir + "/statm");
  if (!statm.ok()) return statm.status();
  unsigned long long size_pages = 0, rss_pages = 0;
  if (std::sscanf(statm->c_str(), "%llu %llu", &size_pages, &rss_pages) != 2) {
    return absl::DataLossError(absl::StrCat("bad ", dir, "/statm"));
  }
  ProcSample sample;
  sample.cpu_ns = (utime + stime) * (1000000000ull / static_cast<unsigned long long>(ticks));
  sample.rss_bytes = rss_pages * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
  return sample;
}

absl::StatusOr<ProcSample> SampleProcesses(const std::vector<pid_t>& pids) {
  ProcSample total;
  for (pid_t pid : pids) {
    auto one = SampleProcess(pid);
    if (!one.ok()) return one.status();
    total.cpu_ns += one->cpu_ns;
    total.rss_bytes += one->rss_bytes;
  }
  return total;
}

uint64_t SelfCpuNs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000000ull +
           static_cast<uint64_t>(tv.tv_usec) * 1000ull;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

}  // namespace roomq::loadgen
