#include "runtime/cli/help.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace hull::cli {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

// "   name  text" with the names padded to the widest one plus two spaces.
std::string table(const Rows& rows) {
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  std::string out;
  for (const auto& [name, text] : rows) {
    out += "   " + name;
    if (!text.empty()) out += std::string(width - name.size() + 2, ' ') + text;
    out += "\n";
  }
  return out;
}

bool takes_value(const CLI::Option* o) {
  return o->get_items_expected_max() > 0;  // flags expect none
}

// "--bundle value, -b value" / "--force, -f".
std::string option_names(const CLI::Option* o) {
  std::string value = takes_value(o) ? " value" : "";
  std::vector<std::string> names;
  for (const auto& l : o->get_lnames()) names.push_back("--" + l + value);
  for (const auto& s : o->get_snames()) names.push_back("-" + s + value);
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string option_text(const CLI::Option* o) {
  std::string text = o->get_description();
  std::string def = o->get_default_str();
  if (!def.empty() && text.find("(default") == std::string::npos) {
    bool number = def.find_first_not_of("0123456789") == std::string::npos;
    text += number ? " (default: " + def + ")" : " (default: \"" + def + "\")";
  }
  return text;
}

// A positional as runc's usage lines name it.
std::string positional_usage(const CLI::Option* o) {
  const std::string& name = o->get_name(true);
  if (name == "id") return "<container-id>";
  if (name == "command") return "<command> [command options]";
  if (name == "ps-args") return "[ps options]";
  return o->get_required() ? "<" + name + ">" : "[" + name + "]";
}

class RuncHelp : public CLI::FormatterBase {
 public:
  explicit RuncHelp(std::string version) : version_(std::move(version)) {}

  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    return app->get_parent() == nullptr ? program_help(app) : command_help(app);
  }

 private:
  static std::vector<const CLI::Option*> flags(const CLI::App* app) {
    return app->get_options([app](const CLI::Option* o) {
      return o->nonpositional() && o != app->get_help_ptr() && o != app->get_version_ptr() &&
             !o->get_group().empty();
    });
  }

  std::string program_help(const CLI::App* app) const {
    const std::string& name = app->get_name();
    std::string out = "NAME:\n   " + name + " - " + app->get_description() + "\n\n";
    out += "USAGE:\n   " + name + " [global options] command [command options] [arguments...]\n\n";
    out += "VERSION:\n   " + version_ + "\n";
    Rows commands;
    for (const CLI::App* sub : app->get_subcommands({})) {
      if (sub->get_group().empty()) continue;  // hidden (the monitor)
      std::string names = sub->get_name();
      for (const auto& a : sub->get_aliases()) names += ", " + a;
      commands.emplace_back(names, sub->get_description());
    }
    out += "COMMANDS:\n" + table(commands) + "\n";
    Rows opts;
    for (const CLI::Option* o : flags(app)) opts.emplace_back(option_names(o), option_text(o));
    if (const CLI::Option* h = app->get_help_ptr()) opts.emplace_back(option_names(h), "show help");
    if (const CLI::Option* v = app->get_version_ptr()) {
      opts.emplace_back(option_names(v), "print the version");
    }
    out += "GLOBAL OPTIONS:\n" + table(opts);
    return out;
  }

  std::string command_help(const CLI::App* app) const {
    std::string name = app->get_parent()->get_name() + " " + app->get_name();
    std::string out = "NAME:\n   " + name + " - " + app->get_description() + "\n\n";
    auto opts = flags(app);
    std::string usage = name + (opts.empty() ? "" : " [command options]");
    for (const CLI::Option* p : app->get_options(
             [](const CLI::Option* o) { return o->get_positional() && !o->nonpositional(); })) {
      usage += " " + positional_usage(p);
    }
    out += "USAGE:\n   " + usage + "\n";
    if (!app->get_footer().empty()) out += "\n" + app->get_footer() + "\n";
    if (!opts.empty()) {
      Rows rows;
      for (const CLI::Option* o : opts) rows.emplace_back(option_names(o), option_text(o));
      out += "\nOPTIONS:\n" + table(rows);
    }
    return out;
  }

  std::string version_;
};

}  // namespace

std::shared_ptr<CLI::FormatterBase> runc_help_formatter(std::string version) {
  return std::make_shared<RuncHelp>(std::move(version));
}

}  // namespace hull::cli
