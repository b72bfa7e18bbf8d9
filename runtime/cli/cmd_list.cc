// hull list: the containers under --root, as runc prints them (a table with
// tab stops of at least 12 columns, ids only, or a JSON array of the state
// objects in runc's key order, "null" when there are none).
#include <cstdio>

#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

struct ListOptions {
  std::string format = "table";
  bool quiet = false;
};

// Go's text/tabwriter with minwidth 12, padding 3: every cell but the last
// of a row is padded to the column's width.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    for (size_t i = 0; i + 1 < r.size(); ++i) {
      if (width.size() <= i) width.push_back(12);
      width[i] = std::max(width[i], r[i].size() + 3);
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out += std::string(width[i] - r[i].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

int run_list(const GlobalOptions& g, const ListOptions& o) {
  if (o.format != "table" && o.format != "json") {
    return report_error(Error{Errc::Invalid, 0, "invalid format option"});
  }
  auto states = container::list(context_of(g));
  if (!states) return report_error(states.error());
  if (o.quiet) {
    for (const auto& s : *states) std::printf("%s\n", s.id.c_str());
    return 0;
  }
  if (o.format == "json") {
    if (states->empty()) {
      std::printf("null\n");
      return 0;
    }
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& s : *states) {
      auto j = oci::state_output_json(s);
      j["owner"] = s.owner.empty() ? "root" : s.owner;
      arr.push_back(j);
    }
    std::printf("%s\n", arr.dump().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows{{"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& s : *states) {
    rows.push_back({s.id, std::to_string(s.pid), std::string(oci::status_name(s.status)), s.bundle,
                    s.created, s.owner.empty() ? "root" : s.owner});
  }
  std::fputs(table(rows).c_str(), stdout);
  return 0;
}

}  // namespace

Command list_command() {
  return {"list", "lists containers started by hull with the given root",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<ListOptions>();
            sub.add_option("-f,--format", o->format,
                           "select one of: table or json (default: \"table\")");
            sub.add_flag("-q,--quiet", o->quiet, "display only container IDs");
            return [o](const GlobalOptions& g) { return run_list(g, *o); };
          }};
}

}  // namespace hull::cli
