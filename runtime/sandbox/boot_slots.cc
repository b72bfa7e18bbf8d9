#include "runtime/sandbox/boot_slots.h"

#include <fcntl.h>
#include <sys/file.h>
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

Result<BootSlot> BootSlot::acquire(const std::string& root, unsigned slots,
                                   std::chrono::milliseconds timeout) {
  const std::string dir = root + "/boot-slots";
  HULL_TRY(wrap(make_dirs(dir), "boot slots"));
  const auto begin = std::chrono::steady_clock::now();
  // Each start tries the slots from a different one, so that the waiters do not all
  // contend for slot 0 first.
  const unsigned first = static_cast<unsigned>(::getpid()) % std::max(1u, slots);
  for (;;) {
    for (unsigned k = 0; k < slots; ++k) {
      const std::string path = dir + "/" + std::to_string((first + k) % slots);
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
      if (!fd) return fail_errno("boot slots: open " + path);
      if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        BootSlot s;
        s.fd_ = std::move(fd);
        s.waited_ = std::chrono::steady_clock::now() - begin;
        return s;
      }
      if (errno != EWOULDBLOCK) return fail_errno("boot slots: flock " + path);
    }
    if (std::chrono::steady_clock::now() - begin >= timeout) {
      return fail(Errc::Timeout,
                  "waited " + std::to_string(timeout.count()) + " ms for one of the " +
                      std::to_string(slots) + " boot slots in " + dir +
                      " (the host is booting that many VMs; raise vm.start_timeout_s or start "
                      "fewer at once)");
    }
    std::this_thread::sleep_for(kBootSlotPoll);
  }
}

}  // namespace hull::sandbox
