#ifndef ROOMQ_PROTO_BASE_PROMETHEUS_TEXT_H_
#define ROOMQ_PROTO_BASE_PROMETHEUS_TEXT_H_

// PrometheusText: the one writer of the Prometheus text exposition format
// (version 0.0.4) that every roomq /metrics page is built with. Each metric
// name is written as prefix + name (e.g. "roomq_broker_" + "routed_total"),
// so a binary's metrics share one prefix without repeating it.
//
// Escaping follows the format: label values escape backslash, double quote
// and newline ("\\", "\"", "\n"); HELP text escapes backslash and newline.
// Metric and label names are ours (fixed identifiers) and are written as
// given.
//
// Thread safety: none; build a page on one thread and Take() it.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace roomq::base {

// A label value escaped for the text format.
std::string EscapeLabelValue(std::string_view value);

class PrometheusText {
 public:
  using Label = std::pair<std::string_view, std::string_view>;  // name, value

  explicit PrometheusText(std::string_view prefix) : prefix_(prefix) {}

  // "# HELP <prefix><name> <help>" and "# TYPE <prefix><name> <type>";
  // `type` is "counter" or "gauge".
  void Header(std::string_view name, std::string_view type, std::string_view help);

  // One sample: "<prefix><name>{l1="v1",...} <value>"; no braces without
  // labels. The string form takes a value already formatted (e.g. "0.250").
  void Sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void Sample(std::string_view name, std::initializer_list<Label> labels, std::string_view value);

  // Header and one unlabelled sample.
  void Counter(std::string_view name, std::string_view help, uint64_t value) {
    Header(name, "counter", help);
    Sample(name, {}, value);
  }
  void Gauge(std::string_view name, std::string_view help, uint64_t value) {
    Header(name, "gauge", help);
    Sample(name, {}, value);
  }

  // The page written so far; the writer is empty afterwards.
  std::string Take() {
    std::string page = std::move(out_);
    out_.clear();
    return page;
  }

 private:
  std::string prefix_;
  std::string out_;
};

}  // namespace roomq::base

#endif  // ROOMQ_PROTO_BASE_PROMETHEUS_TEXT_H_
