#include "clients/loadgen/report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace roomq::loadgen {

std::string FormatTable(const Report& r) {
  std::string out;
  auto row = [&out](const char* name, const std::string& value) {
    absl::StrAppendFormat(&out, "  %-28s %s\n", name, value);
  };
  absl::StrAppendFormat(&out, "roomq-loadgen %s\n", r.scenario);
  row("connections ready/asked", absl::StrFormat("%d / %d (failed %d, dropped %d)", r.ready,
                                                 r.connections, r.connect_failed, r.dropped));
  row("setup", absl::StrFormat("%.2f s", r.setup_s));
  row("window", absl::StrFormat("%.2f s", r.window_s));
  row("published (skipped)", absl::StrFormat("%d (%d)", r.published, r.publish_skipped));
  row("delivered / expected", absl::StrFormat("%d / %d", r.delivered, r.expected));
  row("lost, gaps, duplicates", absl::StrFormat("%d, %d, %d", r.lost, r.gaps, r.duplicates));
  row("delivered/s", absl::StrFormat("%.0f", r.delivered_per_s));
  row("latency p50/p99/p99.9/max",
      absl::StrFormat("%.0f / %.0f / %.0f / %.0f us", r.p50_us, r.p99_us, r.p999_us, r.max_us));
  row("pings answered", absl::StrCat(r.pings_answered));
  row("server CPU (window+drain)",
      absl::StrFormat("%.3f s", static_cast<double>(r.server_cpu_ns) / 1e9));
  row("server CPU per delivered", absl::StrFormat("%.0f ns", r.server_cpu_ns_per_msg));
  row("server RSS before/held",
      absl::StrFormat("%.1f / %.1f MiB", static_cast<double>(r.server_rss_before) / 1048576.0,
                      static_cast<double>(r.server_rss_held) / 1048576.0));
  row("server RSS per connection", absl::StrFormat("%.0f bytes", r.server_rss_per_conn));
  row("loadgen CPU", absl::StrFormat("%.3f s", static_cast<double>(r.loadgen_cpu_ns) / 1e9));
  return out;
}

std::string FormatJson(const Report& r) {
  return absl::StrFormat(
      "{\"scenario\":\"%s\",\"connections\":%d,\"ready\":%d,\"connect_failed\":%d,\"dropped\":%d,"
      "\"setup_s\":%.3f,\"window_s\":%.3f,\"published\":%d,\"publish_skipped\":%d,\"expected\":%d,"
      "\"delivered\":%d,\"lost\":%d,\"gaps\":%d,\"duplicates\":%d,\"pings_answered\":%d,"
      "\"delivered_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
      "\"server_cpu_ns\":%d,\"server_cpu_ns_per_msg\":%.1f,\"server_rss_before\":%d,"
      "\"server_rss_held\":%d,\"server_rss_per_conn\":%.1f,\"loadgen_cpu_ns\":%d}",
      r.scenario, r.connections, r.ready, r.connect_failed, r.dropped, r.setup_s, r.window_s,
      r.published, r.publish_skipped, r.expected, r.delivered, r.lost, r.gaps, r.duplicates,
      r.pings_answered, r.delivered_per_s, r.p50_us, r.p99_us, r.p999_us, r.max_us, r.server_cpu_ns,
      r.server_cpu_ns_per_msg, r.server_rss_before, r.server_rss_held, r.server_rss_per_conn,
      r.loadgen_cpu_ns);
}

}  // namespace roomq::loadgen
