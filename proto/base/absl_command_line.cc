#include "proto/base/absl_command_line.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "proto/base/absl_compat.h"

namespace roomq::base {
namespace {

absl::CommandLineFlag* FindOurFlag(std::string_view dashed_name, std::string_view file_filter) {
  const std::string name = absl::StrReplaceAll(ToAbsl(dashed_name), {{"-", "_"}});
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr || flag->Filename().find(file_filter) == std::string::npos) return nullptr;
  return flag;
}

std::string Dashed(absl::string_view name) { return absl::StrReplaceAll(name, {{"_", "-"}}); }

}  // namespace

absl::Status ParseFlags(const std::vector<std::string>& args, std::string_view file_filter) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") {
      return absl::NotFoundError("help");
    }
  }
  // Values of repeatable (list) flags, applied once at the end.
  std::map<absl::CommandLineFlag*, std::vector<std::string>> lists;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", ToAbsl(arg), "\""));
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
    absl::CommandLineFlag* flag = FindOurFlag(name, file_filter);
    std::string bool_value;
    if (flag == nullptr && !has_value && name.substr(0, 2) == "no") {
      flag = FindOurFlag(name.substr(2), file_filter);
      if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
      bool_value = "false";
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", ToAbsl(name)));
    }
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        // (Not `cond ? "true" : bool_value`: that would view a temporary.)
        if (bool_value.empty()) bool_value = "true";
        value = bool_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", ToAbsl(name), " needs a value"));
      }
    }
    if (flag->IsOfType<std::vector<std::string>>()) {
      lists[flag].emplace_back(value);
      continue;
    }
    std::string error;
    if (!flag->ParseFrom(ToAbsl(value), &error)) {
      return absl::InvalidArgumentError(absl::StrCat("bad value \"", ToAbsl(value), "\" for --",
                                                     Dashed(flag->Name()), ": ", error));
    }
  }
  for (auto& [flag, values] : lists) {
    std::string error;
    if (!flag->ParseFrom(absl::StrJoin(values, ","), &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for --", Dashed(flag->Name()), ": ", error));
    }
  }
  return absl::OkStatus();
}

std::string FlagsUsage(std::string_view program, std::string_view description,
                       std::string_view file_filter) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->Filename().find(file_filter) != std::string::npos) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(), [](auto* a, auto* b) { return a->Name() < b->Name(); });
  std::string out =
      absl::StrCat("Usage: ", ToAbsl(program), " [flags]\n", ToAbsl(description), "\n\nFlags:\n");
  for (absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&out, "  --", Dashed(flag->Name()), "\n      ", flag->Help(),
                    " (default: ", flag->DefaultValue(), ")\n");
  }
  absl::StrAppend(&out, "  --help\n      Print this and exit.\n");
  return out;
}

void ParseFlagsOrExit(int argc, char** argv, std::string_view description,
                      std::string_view file_filter) {
  std::string program = argc > 0 ? argv[0] : "program";
  program = program.substr(program.rfind('/') + 1);
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  const absl::Status status = ParseFlags(args, file_filter);
  if (status.ok()) return;
  const std::string usage = FlagsUsage(program, description, file_filter);
  if (absl::IsNotFound(status)) {
    std::fputs(usage.c_str(), stdout);
    std::exit(0);
  }
  std::fprintf(stderr, "%s: %s\n\n%s", program.c_str(), std::string(status.message()).c_str(),
               usage.c_str());
  std::exit(2);
}

}  // namespace roomq::base
