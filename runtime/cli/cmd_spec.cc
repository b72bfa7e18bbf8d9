// hull spec: writes a default config.json into the bundle, like `runc spec`:
// with a cgroup namespace only when this host runs cgroup v2 unified (runc's
// rule; the guest runs cgroup v2 either way and needs none).
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/file.h"
#include "common/oci/spec.h"
#include "runtime/cli/command.h"

namespace hull::cli {
namespace {

struct SpecOptions {
  std::string bundle;
  bool rootless = false;
};

// runc's IsCgroup2UnifiedMode: a cgroup2 file system at /sys/fs/cgroup.
bool host_cgroup2_unified() {
  struct statfs fs {};
  return ::statfs("/sys/fs/cgroup", &fs) == 0 &&
         static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
}

int run_spec(const SpecOptions& o) {
  std::string dir = o.bundle.empty() ? "." : o.bundle;
  struct stat st {};
  if (!o.bundle.empty() && (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return report_error(Error{Errc::Invalid, 0,
                              "bundle " + dir +
                                  ": not a directory; create it "
                                  "first (mkdir -p " +
                                  dir + "/rootfs)"});
  }
  std::string path = dir + "/config.json";
  if (::access(path.c_str(), F_OK) == 0) {
    return report_error(Error{Errc::Exists, 0, "File " + path + " exists. Remove it first"});
  }
  auto cgroup_ns = host_cgroup2_unified() ? oci::CgroupNamespace::Add : oci::CgroupNamespace::Omit;
  oci::Spec spec =
      o.rootless ? oci::default_rootless_spec(cgroup_ns) : oci::default_spec(cgroup_ns);
  if (auto st2 = write_file_atomic(path, oci::serialize_spec(spec), 0666 & ~0022); !st2) {
    return report_error(st2.error());
  }
  return 0;
}

}  // namespace

Command spec_command() {
  return {"spec", "create a new specification file (config.json) in the bundle",
          [](CLI::App& sub) -> Action {
            auto o = std::make_shared<SpecOptions>();
            sub.add_option("-b,--bundle", o->bundle, "path to the root of the bundle directory");
            sub.add_flag("--rootless", o->rootless,
                         "generate a configuration for a rootless container");
            return [o](const GlobalOptions&) { return run_spec(*o); };
          }};
}

}  // namespace hull::cli
