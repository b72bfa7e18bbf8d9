// A minimal QEMU harness for the boot tests: start qemu-system-x86_64 with a microvm guest,
// watch its serial console file, wait for it to end. The real VM launcher (runtime/vm)
// replaces it; it stays small on purpose.
//
// Every QEMU started here is killed and reaped when its owner goes away, on every path.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/error.h"

namespace hull::boot_test {

// A temp dir removed, with its contents, by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct GuestImage {
  std::string vmlinux;
  std::string initrd;
};

// The image in `dir` (vmlinux, initrd.img), or an error saying how to build it.
Result<GuestImage> find_guest_image(const std::string& dir);

struct BootOptions {
  std::string extra_cmdline;            // appended to the kernel command line
  std::vector<std::string> extra_args;  // appended to QEMU's arguments
  std::string memory = "256M";
};

// KVM where /proc/cpuinfo shows vmx/svm and /dev/kvm opens read-write; TCG otherwise.
bool kvm_usable();

// The QEMU command line for one microvm boot with the serial console going to `console_path`.
Result<std::vector<std::string>> qemu_argv(const GuestImage& image, const BootOptions& options,
                                           const std::string& console_path);

// One booted (or booting) guest in its own temp dir.
class Guest {
 public:
  static Result<Guest> start(const GuestImage& image, const BootOptions& options);

  // Polls the console until a line starting with "hull-agent ready " appears; returns the
  // seconds from start to then. Errc::Timeout if not within `timeout`; Errc::NotRunning if
  // QEMU ended first.
  Result<double> wait_ready(std::chrono::milliseconds timeout);
  // QEMU's wait status (WIFEXITED and friends read it) once it ended within
  // `timeout`; nullopt while it runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  std::string console() const;
  std::string qemu_log() const;
  pid_t pid() const { return qemu_.pid(); }

 private:
  Guest(std::unique_ptr<TempDir> dir, ChildProcess qemu, std::chrono::steady_clock::time_point t)
      : dir_(std::move(dir)), qemu_(std::move(qemu)), started_(t) {}
  std::unique_ptr<TempDir> dir_;  // declared first: removed after QEMU is dead
  ChildProcess qemu_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace hull::boot_test
