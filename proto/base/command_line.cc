#include "proto/base/command_line.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/base/absl_compat.h"
#include "proto/base/host_port.h"

namespace roomq::base {
namespace {

// The option of `app` or of any of its subcommands spelled `name`.
const CLI::Option* FindOption(const CLI::App& app, const std::string& name) {
  if (const CLI::Option* option = app.get_option_no_throw(name)) return option;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (const CLI::Option* option = FindOption(*sub, name)) return option;
  }
  return nullptr;
}

// One value per occurrence for every named option: otherwise a vector option
// swallows the arguments after it (--room a '{"json":1}').
void OneValuePerOccurrence(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (!option->get_positional()) option->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    OneValuePerOccurrence(*sub);
  }
}

bool IsHelp(std::string_view arg) { return arg == "-h" || arg == "--help" || arg == "-help"; }

// The spelling CLI11 reads for an argument roomq accepted before CLI11:
// "-flag" -> "--flag", "--flag_name" -> "--flag-name", "--nobool" ->
// "--bool=false" (only for a known boolean flag without its own --no form).
std::string Normalized(const CLI::App& app, std::string arg) {
  if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' && std::isalpha(arg[1])) {
    arg.insert(0, "-");
  }
  if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0) return arg;
  const size_t eq = arg.find('=');
  std::replace(arg.begin(), arg.begin() + std::min(eq, arg.size()), '_', '-');
  if (eq != std::string::npos || arg.compare(0, 4, "--no") != 0 || FindOption(app, arg)) {
    return arg;
  }
  const CLI::Option* positive = FindOption(app, "--" + arg.substr(4));
  if (positive != nullptr && positive->get_expected_max() == 0)
    arg = "--" + arg.substr(4) + "=false";
  return arg;
}

// "--name" alone, for an option that takes a value: CLI11 takes the next
// argument as that value, whatever it looks like.
bool AwaitsValue(const CLI::App& app, const std::string& arg) {
  if (arg.size() <= 2 || arg.compare(0, 2, "--") != 0 || arg.find('=') != std::string::npos) {
    return false;
  }
  const CLI::Option* option = FindOption(app, arg);
  return option != nullptr && !option->get_positional() && option->get_expected_max() > 0;
}

// Normalizes every argument before "--" except an option's value, which is
// left as it is: a value may start with '-' (a socket id may: "--room
// -c9PR..."), and "-c9PR" must not become "--c9PR".
void Normalize(const CLI::App& app, std::vector<std::string>& args) {
  bool value_next = false;
  for (std::string& arg : args) {
    if (value_next) {
      value_next = false;
      continue;
    }
    if (arg == "--") return;
    arg = Normalized(app, std::move(arg));
    value_next = AwaitsValue(app, arg);
  }
}

std::string ExtrasMessage(const CLI::App& app) {
  const std::vector<std::string> extras = app.remaining(true);
  if (extras.empty()) return "unexpected arguments";
  const std::string& first = extras.front();
  if (first.size() > 1 && first[0] == '-') {
    return absl::StrCat("unknown flag ", first.substr(0, first.find('=')));
  }
  return absl::StrCat("unexpected argument \"", first, "\"");
}

// roomq's usage layout (the gateway's Abseil usage has the same): each flag
// alone on its line, then its help, value type and default.
//   --pub-bind
//       Endpoint publishers send envelopes to (TEXT, default: tcp://127.0.0.1:5555)
class UsageFormatter : public CLI::Formatter {
 public:
  std::string make_option(const CLI::Option* option, bool is_positional) const override {
    const std::string name = is_positional || option->get_lnames().empty()
                                 ? option->get_name(true)
                                 : "--" + option->get_lnames().front();
    std::string details = option->get_type_name();
    if (option->get_items_expected_max() > 1) details += ", repeatable";
    const std::string& fallback = option->get_default_str();
    if (!fallback.empty() && fallback != "[]") details += ", default: " + fallback;
    std::string out = absl::StrCat("  ", name, "\n      ", option->get_description());
    if (!details.empty()) absl::StrAppend(&out, " (", details, ")");
    return out + "\n";
  }
};

}  // namespace

void UseRoomqConventions(CLI::App& app) {
  app.formatter(std::make_shared<UsageFormatter>());
  app.option_defaults()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->always_capture_default();
}

absl::Status ParseCommandLine(CLI::App& app, std::vector<std::string> args) {
  const bool help = std::any_of(args.begin(), std::find(args.begin(), args.end(), "--"), IsHelp);
  Normalize(app, args);
  OneValuePerOccurrence(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    return absl::NotFoundError("help");
  } catch (const CLI::CallForAllHelp&) {
    return absl::NotFoundError("help");
  } catch (const CLI::ExtrasError&) {
    if (help) return absl::NotFoundError("help");
    return absl::InvalidArgumentError(ExtrasMessage(app));
  } catch (const CLI::ParseError& error) {
    if (help) return absl::NotFoundError("help");
    return absl::InvalidArgumentError(error.what());
  }
  return absl::OkStatus();
}

std::string Usage(const CLI::App& app) { return app.help(); }

std::optional<int> ParseCommandLineOrUsage(CLI::App& app, const std::vector<std::string>& args,
                                           std::ostream& out, std::ostream& err) {
  const absl::Status status = ParseCommandLine(app, args);
  if (status.ok()) return std::nullopt;
  if (absl::IsNotFound(status)) {
    out << Usage(app);
    return 0;
  }
  err << app.get_name() << ": " << status.message() << "\n\n" << Usage(app);
  return 2;
}

void ParseCommandLineOrExit(CLI::App& app, int argc, char** argv) {
  if (app.get_name().empty() && argc > 0) {
    const std::string program = argv[0];
    app.name(program.substr(program.rfind('/') + 1));
  }
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (std::optional<int> code = ParseCommandLineOrUsage(app, args, std::cout, std::cerr)) {
    std::cout.flush();
    std::exit(*code);
  }
}

CLI::Option* AddMilliseconds(CLI::App& app, const std::string& name,
                             std::chrono::milliseconds& value, const std::string& help) {
  return app
      .add_option_function<int64_t>(
          name, [&value](int64_t ms) { value = std::chrono::milliseconds(ms); }, help)
      ->type_name("MS")
      ->default_str(std::to_string(value.count()));
}

CLI::Validator AtLeast(int64_t min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        int64_t number = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), number);
        if (value.empty() || error != std::errc() || end != value.data() + value.size()) {
          return "not a whole number: " + value;
        }
        if (number < min) return absl::StrCat("must be at least ", min, ", not ", value);
        return "";
      },
      absl::StrCat(">=", min));
}

const CLI::Validator kHostPort(
    [](std::string& value) -> std::string {
      const absl::StatusOr<HostPort> host_port = ParseHostPort(value);
      if (host_port.ok()) return "";
      return absl::StrCat(host_port.status().message(), ", got ", value);
    },
    "HOST:PORT", "HOST:PORT");

}  // namespace roomq::base
