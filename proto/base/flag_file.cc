#include "proto/base/flag_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proto/base/absl_compat.h"
#include "proto/base/yaml_config.h"

namespace roomq::base {
namespace {

// The long name of a flag the file may set, or "" (positional arguments,
// --help, --config, --print-config).
std::string FileFlagName(const CLI::Option& option) {
  if (option.get_positional() || option.get_lnames().empty()) return "";
  std::string name = "--" + option.get_lnames().front();
  if (name == "--help" || name == kConfigFlag || name == kPrintConfigFlag) return "";
  return name;
}

std::string KeyOf(std::string flag) {
  flag.erase(0, 2);
  std::replace(flag.begin(), flag.end(), '-', '_');
  return flag;
}

std::string FlagOf(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

bool Repeatable(const CLI::Option& option) { return option.get_items_expected_max() > 1; }

// The option the file's `key` sets, or nullptr.
CLI::Option* FileOption(CLI::App& app, const std::string& key) {
  if (key.empty() ||
      key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return nullptr;
  }
  CLI::Option* option = app.get_option_no_throw(FlagOf(key));
  return option != nullptr && !FileFlagName(*option).empty() ? option : nullptr;
}

// The values a flag holds: what was given, else its default as --help shows
// it ("[a,b]" for a list; {""} for an empty scalar, {} for an empty list).
std::vector<std::string> EffectiveValues(const CLI::Option& option) {
  if (!option.empty()) {
    if (Repeatable(option)) return option.results();
    return {option.results().back()};
  }
  const std::string text = option.get_default_str();
  if (!Repeatable(option)) return {text};
  absl::string_view fallback = text;
  absl::ConsumePrefix(&fallback, "[");
  absl::ConsumeSuffix(&fallback, "]");
  if (fallback.empty()) return {};
  return absl::StrSplit(fallback, ',');
}

class FlagFileReader {
 public:
  FlagFileReader(CLI::App& app, std::string_view source, const std::vector<std::string>& sections)
      : app_(app), reader_(source), sections_(sections) {}

  absl::Status Apply(std::string_view text) {
    return reader_
        .Parse<bool>(text,
                     [this](const YAML::Node& root) -> absl::StatusOr<bool> {
                       if (root.IsNull()) return true;  // an empty file sets nothing
                       if (!root.IsMap())
                         return reader_.Error(root.Mark(), "a config file is a map of keys");
                       for (const auto& item : root) {
                         if (absl::Status status = ApplyKey(item.first, item.second);
                             !status.ok()) {
                           return status;
                         }
                       }
                       return true;
                     })
        .status();
  }

 private:
  absl::Status ApplyKey(const YAML::Node& key_node, const YAML::Node& value) {
    absl::StatusOr<std::string> key = reader_.Key(key_node);
    if (!key.ok()) return key.status();
    if (std::find(sections_.begin(), sections_.end(), *key) != sections_.end()) {
      return absl::OkStatus();
    }
    CLI::Option* option = FileOption(app_, *key);
    if (option == nullptr) return UnknownKey(key_node, *key);
    if (!seen_.insert(*key).second) {
      return reader_.Error(key_node.Mark(), absl::StrCat("duplicate key '", *key, "'"));
    }
    if (!option->empty()) return absl::OkStatus();  // the command line gave it
    absl::StatusOr<std::vector<std::string>> values = Values(*option, *key, value);
    if (!values.ok()) return values.status();
    // An empty value or list where the default is empty too (what
    // --print-config writes for an unset path or list) leaves the flag unset.
    const bool empty = values->empty() || (values->size() == 1 && values->front().empty());
    if (empty && EffectiveValues(*option) == std::vector<std::string>(values->size())) {
      return absl::OkStatus();
    }
    if (values->empty()) {
      return reader_.Error(value.Mark(),
                           absl::StrCat("'", *key, "': an empty list cannot replace the default ",
                                        option->get_default_str()));
    }
    try {
      option->add_result(*std::move(values));
      option->run_callback();
    } catch (const CLI::Error& e) {
      option->clear();
      return reader_.Error(value.Mark(), absl::StrCat("bad '", *key, "': ", e.what()));
    }
    return absl::OkStatus();
  }

  absl::Status UnknownKey(const YAML::Node& key_node, const std::string& key) const {
    std::string underscored = key;
    std::replace(underscored.begin(), underscored.end(), '-', '_');
    if (underscored != key && FileOption(app_, underscored) != nullptr) {
      return reader_.Error(
          key_node.Mark(),
          absl::StrCat("unknown key '", key, "' (keys use underscores: ", underscored, ")"));
    }
    return reader_.Error(key_node.Mark(), absl::StrCat("unknown key '", key, "'"));
  }

  // A scalar, or a list of scalars for a repeatable flag.
  absl::StatusOr<std::vector<std::string>> Values(const CLI::Option& option, const std::string& key,
                                                  const YAML::Node& value) const {
    if (value.IsScalar()) return std::vector<std::string>{value.Scalar()};
    if (!value.IsSequence() || !Repeatable(option)) {
      return reader_.Error(value.Mark(), absl::StrCat("'", key, "' must be a value",
                                                      Repeatable(option) ? " or a list" : ""));
    }
    std::vector<std::string> values;
    for (const YAML::Node& element : value) {
      absl::StatusOr<std::string> text = reader_.Scalar(element, key);
      if (!text.ok()) return text.status();
      values.push_back(*std::move(text));
    }
    return values;
  }

  CLI::App& app_;
  YamlReader reader_;
  const std::vector<std::string>& sections_;
  std::set<std::string> seen_;
};

}  // namespace

std::vector<std::string> FlagKeys(const CLI::App& app) {
  std::vector<std::string> keys;
  for (const CLI::Option* option : app.get_options()) {
    std::string name = FileFlagName(*option);
    if (!name.empty()) keys.push_back(KeyOf(std::move(name)));
  }
  return keys;
}

absl::Status ApplyFlagFile(CLI::App& app, std::string_view text, std::string_view source,
                           const std::vector<std::string>& sections) {
  return FlagFileReader(app, source, sections).Apply(text);
}

std::string FormatFlags(const CLI::App& app) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const CLI::Option* option : app.get_options()) {
    const std::string name = FileFlagName(*option);
    if (name.empty()) continue;
    out << YAML::Key << KeyOf(name) << YAML::Value;
    std::vector<std::string> values = EffectiveValues(*option);
    if (Repeatable(*option)) {
      out << YAML::Flow << values;
    } else {
      out << values.front();
    }
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void AddPrintConfigFlag(CLI::App& app, bool& print) {
  app.add_flag(std::string(kPrintConfigFlag), print,
               "Print the effective configuration (command line over --config file over "
               "defaults) as a YAML config file, and exit");
}

namespace {

// The `sections` of the YAML `text` as written, and a comment for each one
// it does not have. `text` already parsed once (ApplyFlagFile).
std::string FormatSections(const std::string& text, const std::vector<std::string>& sections) {
  const YAML::Node root = text.empty() ? YAML::Node() : YAML::Load(text);
  std::string out;
  for (const std::string& section : sections) {
    const YAML::Node node = root.IsMap() ? root[section] : YAML::Node();
    if (!node.IsDefined() || node.IsNull()) {
      absl::StrAppend(&out, "# ", section, ": not in the config file (its defaults)\n");
      continue;
    }
    YAML::Emitter emitter;
    emitter << YAML::BeginMap << YAML::Key << section << YAML::Value << node << YAML::EndMap;
    absl::StrAppend(&out, emitter.c_str(), "\n");
  }
  return out;
}

}  // namespace

std::string ApplyConfigFileOrExit(CLI::App& app, const std::string& path, bool print,
                                  const std::vector<std::string>& sections) {
  std::string text;
  if (!path.empty()) {
    absl::StatusOr<std::string> read = ReadConfigFile(path);
    absl::Status status = read.ok() ? ApplyFlagFile(app, *read, path, sections) : read.status();
    if (!status.ok()) {
      std::fprintf(stderr, "%s: --config: %s\n", app.get_name().c_str(),
                   std::string(status.message()).c_str());
      std::exit(2);
    }
    text = *std::move(read);
  }
  if (print) {
    std::fputs(FormatFlags(app).c_str(), stdout);
    std::fputs(FormatSections(text, sections).c_str(), stdout);
    std::exit(0);
  }
  return text;
}

}  // namespace roomq::base
