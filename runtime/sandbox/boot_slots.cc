#include "runtime/sandbox/boot_slots.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "runtime/sandbox/dir_guard.h"

namespace hull::sandbox {

unsigned boot_slot_count() {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return std::max(2u, kBootSlotsPerCpu * static_cast<unsigned>(std::max(1L, cpus)));
}

BootSlot& BootSlot::operator=(BootSlot&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = std::move(o.fd_);
    dir_ = std::move(o.dir_);
    path_ = std::move(o.path_);
    waited_ = o.waited_;
  }
  return *this;
}

void BootSlot::release() {
  if (!fd_.valid()) return;
  // Unlink while still holding the lock: a waiter that opened this file before then
  // locks a file no longer at the path and tries again (acquire).
  (void)::unlink(path_.c_str());
  (void)::rmdir(dir_.c_str());  // fails while other slots exist: fine
  fd_.reset();
}

Result<BootSlot> BootSlot::acquire(const std::string& root, unsigned slots,
                                   std::chrono::milliseconds timeout) {
  const std::string dir = root + "/boot-slots";
  const auto begin = std::chrono::steady_clock::now();
  // Each start tries the slots from a different one, so that the waiters do not all
  // contend for slot 0 first.
  const unsigned n = std::max(1u, slots);
  const unsigned first = static_cast<unsigned>(::getpid()) % n;
  for (;;) {
    HULL_TRY(wrap(make_dirs(dir), "boot slots"));
    for (unsigned k = 0; k < n; ++k) {
      const std::string path = dir + "/" + std::to_string((first + k) % n);
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (!fd) {
        if (errno == ENOENT) break;  // the last holder removed the directory: make it again
        return fail_errno("boot slots: open " + path);
      }
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) return fail_errno("boot slots: flock " + path);
        continue;
      }
      struct stat locked {};
      struct stat at_path {};
      if (::fstat(fd.get(), &locked) != 0) return fail_errno("boot slots: fstat " + path);
      if (::stat(path.c_str(), &at_path) != 0 || at_path.st_ino != locked.st_ino ||
          at_path.st_dev != locked.st_dev) {
        continue;  // its holder removed it between our open and our lock
      }
      BootSlot s;
      s.fd_ = std::move(fd);
      s.dir_ = dir;
      s.path_ = path;
      s.waited_ = std::chrono::steady_clock::now() - begin;
      return s;
    }
    if (std::chrono::steady_clock::now() - begin >= timeout) {
      return fail(Errc::Timeout,
                  "waited " + std::to_string(timeout.count()) + " ms for one of the " +
                      std::to_string(n) + " boot slots in " + dir +
                      " (the host is booting that many VMs; raise vm.start_timeout_s or start "
                      "fewer at once)");
    }
    std::this_thread::sleep_for(kBootSlotPoll);
  }
}

}  // namespace hull::sandbox
