// hull-mkinitrd: writes the guest initrd, an uncompressed cpio newc archive, from a spec
// (guest-image/initrd_spec.h). Used by guest-image/build.sh; the output is byte-identical for
// the same spec and file contents.
//
//   hull-mkinitrd [-o OUT] SPEC      SPEC "-" reads stdin; without -o the archive goes to stdout
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common/file.h"
#include "common/unique_fd.h"
#include "guest-image/cpio_writer.h"
#include "guest-image/initrd_spec.h"

namespace hull::guest_image {
namespace {

constexpr size_t kMaxSpecBytes = 16 << 20;

Result<std::string> read_spec(const std::string& path) {
  if (path != "-") return read_file(path, kMaxSpecBytes);
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("reading the spec from stdin");
    }
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxSpecBytes) return fail(Errc::Invalid, "spec on stdin is too large");
  }
}

Status run(const std::string& spec_path, const std::string& out_path) {
  HULL_ASSIGN(text, read_spec(spec_path));
  HULL_ASSIGN(entries, wrap(parse_initrd_spec(text), spec_path));
  if (out_path.empty()) return write_cpio(1, std::move(entries));

  // Write next to the target and rename, so a failed run never leaves a truncated initrd.
  std::string tmp = out_path + ".tmp-" + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return fail_errno("creating " + tmp);
  auto written = write_cpio(fd.get(), std::move(entries));
  if (written && ::fsync(fd.get()) != 0) written = fail_errno("fsync " + tmp);
  fd.reset();
  if (written && ::rename(tmp.c_str(), out_path.c_str()) != 0) {
    written = fail_errno("renaming " + tmp + " to " + out_path);
  }
  if (!written) ::unlink(tmp.c_str());
  return written;
}

}  // namespace
}  // namespace hull::guest_image

int main(int argc, char** argv) {
  std::string out;
  std::string spec;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-o" && i + 1 < argc) {
      out = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: hull-mkinitrd [-o OUT] SPEC   (SPEC \"-\" = stdin)\n");
      return 0;
    } else if (spec.empty() && (arg == "-" || !arg.starts_with('-'))) {
      spec = arg;
    } else {
      std::fprintf(stderr, "hull-mkinitrd: unexpected argument \"%s\"\n", arg.c_str());
      return 2;
    }
  }
  if (spec.empty()) {
    std::fprintf(stderr, "usage: hull-mkinitrd [-o OUT] SPEC   (SPEC \"-\" = stdin)\n");
    return 2;
  }
  auto st = hull::guest_image::run(spec, out);
  if (!st) {
    std::fprintf(stderr, "hull-mkinitrd: %s\n", st.error().what().c_str());
    return 1;
  }
  return 0;
}
