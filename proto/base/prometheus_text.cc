#include "proto/base/prometheus_text.h"

namespace roomq::base {
namespace {

// Backslash and newline always; double quote only where `quote` (label
// values, not HELP text).
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\' || (quote && c == '"')) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(out, value, /*quote=*/true);
  return out;
}

void PrometheusText::Header(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += prefix_;
  out_ += name;
  out_ += ' ';
  AppendEscaped(out_, help, /*quote=*/false);
  out_ += "\n# TYPE ";
  out_ += prefix_;
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::Sample(std::string_view name, std::initializer_list<Label> labels,
                            uint64_t value) {
  Sample(name, labels, std::to_string(value));
}

void PrometheusText::Sample(std::string_view name, std::initializer_list<Label> labels,
                            std::string_view value) {
  out_ += prefix_;
  out_ += name;
  if (labels.size() > 0) {
    char separator = '{';
    for (const auto& [label, label_value] : labels) {
      out_ += separator;
      out_ += label;
      out_ += "=\"";
      AppendEscaped(out_, label_value, /*quote=*/true);
      out_ += '"';
      separator = ',';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

}  // namespace roomq::base
