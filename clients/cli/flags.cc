#include "clients/cli/flags.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"

namespace roomq::cli {

std::string ParsedFlags::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedFlags::GetAll(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<ParsedFlags> ParseFlags(const std::vector<FlagSpec>& specs,
                                       const std::vector<std::string>& args) {
  auto find = [&](std::string_view name) -> const FlagSpec* {
    for (const FlagSpec& spec : specs) {
      if (spec.name == name) return &spec;
    }
    return nullptr;
  };
  ParsedFlags parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      parsed.help = true;
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    std::string_view name = arg;
    std::string_view value;
    const size_t eq = arg.find('=');
    const bool has_value = eq != std::string_view::npos;
    if (has_value) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const FlagSpec* spec = find(name);
    std::string bool_value = "true";
    if (spec == nullptr && !has_value && name.substr(0, 2) == "no") {
      spec = find(name.substr(2));
      if (spec != nullptr && !spec->value_name.empty()) spec = nullptr;
      bool_value = "false";
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", ToAbsl(name)));
    }
    std::string stored;
    if (spec->value_name.empty()) {
      if (has_value) {
        if (value != "true" && value != "false") {
          return absl::InvalidArgumentError(absl::StrCat(
              "flag --", spec->name, " takes true or false, not \"", ToAbsl(value), "\""));
        }
        stored = std::string(value);
      } else {
        stored = bool_value;
      }
    } else if (has_value) {
      stored = std::string(value);
    } else if (i + 1 < args.size()) {
      stored = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", spec->name, " needs a value (", spec->value_name, ")"));
    }
    auto& slot = parsed.values[spec->name];
    if (!slot.empty() && !spec->repeatable) {
      return absl::InvalidArgumentError(absl::StrCat("flag --", spec->name, " given twice"));
    }
    slot.push_back(std::move(stored));
  }
  return parsed;
}

std::string FlagsHelp(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& spec : specs) {
    absl::StrAppend(&out, "  --", spec.name);
    if (!spec.value_name.empty()) absl::StrAppend(&out, "=", spec.value_name);
    absl::StrAppend(&out, "\n      ", spec.help);
    if (spec.repeatable) absl::StrAppend(&out, " (repeatable)");
    if (!spec.default_value.empty()) absl::StrAppend(&out, " (default: ", spec.default_value, ")");
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help\n      Print this help and exit.\n");
  return out;
}

absl::StatusOr<int64_t> ParseNonNegative(std::string_view flag, std::string_view value) {
  int64_t result = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), result);
  if (error != std::errc() || end != value.data() + value.size() || result < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flag --", ToAbsl(flag), " needs a non-negative integer, not \"", ToAbsl(value), "\""));
  }
  return result;
}

}  // namespace roomq::cli
