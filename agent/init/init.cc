#include "agent/init/init.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "agent/init/features.h"
#include "agent/init/mounts.h"
#include "agent/init/network_lo.h"
#include "common/file.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace hull::agent::init {
namespace {

constexpr char kShell[] = "/bin/sh";

void write_console(const std::string& line) {
  std::string s = line + "\n";
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// The kernel opens /dev/console as fds 0-2 of init when the initrd has it; if it could not,
// open it now that devtmpfs is mounted.
Status ensure_console_fds() {
  if (::fcntl(STDERR_FILENO, F_GETFD) >= 0) return {};
  UniqueFd console(::open("/dev/console", O_RDWR | O_NOCTTY));
  if (!console) return fail_errno("opening /dev/console");
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0 && ::dup2(console.get(), fd) < 0) {
      return fail_errno("dup2 /dev/console");
    }
  }
  if (console.get() <= 2) (void)console.release();  // it became one of fds 0-2
  return {};
}

void install_console_log(log::Level level) {
  log::Sink sink;
  sink.fd = STDERR_FILENO;
  sink.min_level = level;
  sink.monotonic = true;
  log::install(sink);
}

}  // namespace

Status start_debug_shell(Reaper& reaper) {
  if (::access(kShell, X_OK) != 0) {
    return fail_errno(std::string(kShell) +
                      " (build the initrd with guest-image/build.sh --debug)");
  }
  auto hold = reaper.hold();
  pid_t pid = ::fork();
  if (pid < 0) return fail_errno("fork for the debug shell");
  if (pid == 0) {
    Reaper::reset_signal_mask_in_child();
    ::setsid();
    int tty = ::open("/dev/console", O_RDWR);
    if (tty >= 0) {
      ::ioctl(tty, TIOCSCTTY, 1);
      for (int fd = 0; fd <= 2; ++fd) ::dup2(tty, fd);
      if (tty > 2) ::close(tty);
    }
    const char* argv[] = {"sh", nullptr};
    const char* envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", "TERM=linux", nullptr};
    ::execve(kShell, const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    ::_exit(127);
  }
  hold.watch(pid, [](pid_t p, int status) {
    log::info("debug shell (pid " + std::to_string(p) + ") " + describe_wait_status(status));
  });
  log::info("debug shell started on the console (pid " + std::to_string(pid) + ")");
  return {};
}

namespace {

Result<AgentConfig> read_config() {
  HULL_ASSIGN(text, read_file("/proc/cmdline", kMaxCmdlineBytes));
  HULL_ASSIGN(parsed, wrap(parse_cmdline(text), "kernel command line"));
  for (const std::string& p : parsed.unknown) log::warn("ignoring unknown parameter " + p);
  return parsed.config;
}

}  // namespace

std::string ready_line(const timespec& since_boot) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "hull-agent ready %lld.%03ld",
                static_cast<long long>(since_boot.tv_sec), since_boot.tv_nsec / 1000000);
  return buf;
}

void announce_ready() {
  timespec now{};
  ::clock_gettime(CLOCK_BOOTTIME, &now);
  write_console(ready_line(now));
}

Result<Guest> bring_up() {
  install_console_log(log::Level::Info);
  HULL_TRY(wrap(leave_initramfs(), "leaving the initramfs root"));
  HULL_TRY(wrap(mount_all(base_mounts()), "mounting the guest's filesystems"));
  HULL_TRY(ensure_console_fds());
  HULL_TRY(create_dev_symlinks());
  HULL_ASSIGN(config, read_config());
  install_console_log(config.log_level);
  log::debug("mounted proc, sysfs, devtmpfs, devpts, shm, cgroup2, run");

  auto controllers = enable_all_controllers("/sys/fs/cgroup");
  if (!controllers) {
    // Containers still run without one controller; their resource limits say what is missing.
    log::warn("cgroup controllers: " + controllers.error().what());
  } else {
    std::string list;
    for (const std::string& c : *controllers) list += " " + c;
    log::debug("cgroup controllers enabled for children:" + list);
  }
  HULL_TRY(wrap(bring_up_loopback(), "loopback"));

  HULL_ASSIGN(reaper, Reaper::create());
  HULL_ASSIGN(loop, EventLoop::create());
  return Guest{config, std::move(reaper), std::move(loop)};
}

Result<std::string> run_init() {
  HULL_ASSIGN(guest, bring_up());
  log::info("kernel features: " + describe(probe_features()));
  if (guest.config.debug_shell) {
    if (auto st = start_debug_shell(guest.reaper); !st) {
      log::warn("no debug shell: " + st.error().what());
    }
  }
  Reaper& reaper = guest.reaper;
  HULL_TRY(
      guest.loop.add(reaper.fd(), EPOLLIN, [&reaper](uint32_t) { return reaper.on_readable(); }));

  announce_ready();
  if (guest.config.test == TestAction::PowerOff) return std::string("hull.test=poweroff");

  HULL_TRY(guest.loop.run());
  return std::string("main loop stopped");
}

}  // namespace hull::agent::init
