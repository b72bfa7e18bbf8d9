#include "qemu_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "common/file.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "runtime/vm/tsc.h"

namespace hull::boot_test {
namespace {

constexpr size_t kMaxConsoleBytes = 4 << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(10);

bool cpu_has_virt() {
  auto cpuinfo = read_file("/proc/cpuinfo", 8 << 20);
  if (!cpuinfo) return false;
  size_t pos = cpuinfo->find("\nflags");
  if (pos == std::string::npos) return false;
  std::string line = cpuinfo->substr(pos + 1, cpuinfo->find('\n', pos + 1) - pos - 1) + " ";
  return line.find(" vmx ") != std::string::npos || line.find(" svm ") != std::string::npos;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = std::filesystem::temp_directory_path() / "hull-boot-test.XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

Result<GuestImage> find_guest_image(const std::string& dir) {
  GuestImage image{dir + "/vmlinux", dir + "/initrd.img"};
  for (const std::string& f : {image.vmlinux, image.initrd}) {
    if (::access(f.c_str(), R_OK) != 0) {
      return fail(Errc::NotFound,
                  "guest image missing: " + f + " does not exist. Build it first: cmake --build " +
                      std::filesystem::path(dir).parent_path().string() +
                      " --target guest-image (or guest-image/build.sh --out " + dir + ")");
    }
  }
  return image;
}

bool kvm_usable() {
  if (!cpu_has_virt()) return false;
  UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  return kvm.valid();
}

Result<std::vector<std::string>> qemu_argv(const GuestImage& image, const BootOptions& options,
                                           const std::string& console_path) {
  std::string cmdline = "console=ttyS0 quiet panic=-1 noreplace-smp";
  bool kvm = kvm_usable();
  if (!kvm) {
    // Under TCG the guest's own TSC calibration hangs some boots; tell it the rate.
    HULL_ASSIGN(rate, vm::host_tsc_rate());
    cmdline += " tsc_early_khz=" + std::to_string(rate.khz);
  }
  if (!options.extra_cmdline.empty()) cmdline += " " + options.extra_cmdline;
  std::vector<std::string> argv = {
      "qemu-system-x86_64",
      "-M",
      "microvm,acpi=on",
      "-accel",
      kvm ? "kvm" : "tcg",
      "-cpu",
      kvm ? "host" : "max",
      "-m",
      options.memory,
      "-smp",
      "1",
      "-nodefaults",
      "-no-user-config",
      "-nographic",
      "-no-reboot",
      "-kernel",
      image.vmlinux,
      "-initrd",
      image.initrd,
      "-append",
      cmdline,
      "-serial",
      "file:" + console_path,
  };
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return argv;
}

Result<Guest> Guest::start(const GuestImage& image, const BootOptions& options) {
  auto dir = std::make_unique<TempDir>();
  if (dir->path().empty()) return fail_errno("creating a temp dir for the guest");
  HULL_ASSIGN(argv, qemu_argv(image, options, dir->path() + "/console.log"));
  auto t0 = std::chrono::steady_clock::now();
  HULL_ASSIGN(log, open_output_log(dir->path() + "/qemu.log"));
  SpawnOptions o;
  HULL_ASSIGN(path, find_program(argv[0]));
  o.path = path;
  o.argv = argv;
  o.fds = {{log.get(), 1}, {log.get(), 2}};
  o.group = ProcessGroup::Inherit;
  HULL_ASSIGN(qemu, spawn("qemu", o));
  return Guest(std::move(dir), std::move(qemu), t0);
}

std::string Guest::console() const {
  return read_file(dir_->path() + "/console.log", kMaxConsoleBytes).value_or("");
}

std::string Guest::qemu_log() const {
  return read_file(dir_->path() + "/qemu.log", kMaxConsoleBytes).value_or("");
}

std::optional<int> Guest::wait_exit(std::chrono::milliseconds timeout) {
  auto st = qemu_.wait_for(timeout);
  if (!st) return std::nullopt;
  return st->signaled ? st->signal : st->code << 8;  // as waitpid reports it
}

Result<double> Guest::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = started_ + timeout;
  for (;;) {
    std::string text = console();
    size_t at = text.find("hull-agent ready ");
    if (at != std::string::npos && (at == 0 || text[at - 1] == '\n') &&
        text.find('\n', at) != std::string::npos) {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    }
    if (auto status = wait_exit(std::chrono::milliseconds(0))) {
      return fail(Errc::NotRunning, "QEMU ended (wait status " + std::to_string(*status) +
                                        ") before the ready line; console:\n" + console() +
                                        "\nQEMU output:\n" + qemu_log());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail(Errc::Timeout, "no ready line within " + std::to_string(timeout.count()) +
                                     " ms; console:\n" + text);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace hull::boot_test
