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

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                         const std::string& log_path) {
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log) return fail_errno("creating " + log_path);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return fail_errno("opening /dev/null");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls until exec. dup2 clears O_CLOEXEC on the copies.
    ::dup2(null.get(), 0);
    ::dup2(log.get(), 1);
    ::dup2(log.get(), 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess::~ChildProcess() {
  kill_and_reap();
}

void ChildProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);
  }
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
  HULL_ASSIGN(qemu, ChildProcess::spawn(argv, dir->path() + "/qemu.log"));
  return Guest(std::move(dir), std::move(qemu), t0);
}

std::string Guest::console() const {
  return read_file(dir_->path() + "/console.log", kMaxConsoleBytes).value_or("");
}

std::string Guest::qemu_log() const {
  return read_file(dir_->path() + "/qemu.log", kMaxConsoleBytes).value_or("");
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
    if (auto status = qemu_.wait_for(std::chrono::milliseconds(0))) {
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
