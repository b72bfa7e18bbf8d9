#include "agent/engine/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "agent/engine/str.h"

namespace hull::engine {
namespace {

constexpr size_t kStackSize = 64 * 1024;

struct ChildArgs {
  const int* sources;  // duplicates >= kMaxTargetFd, so dup2 never clobbers a source
  const int* targets;
  size_t count;
  int exec_errno;  // written by the child (shared memory) when execve fails
};

// Runs in the vfork child on the parent's memory: async-signal-safe calls only.
int child_main(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  for (size_t i = 0; i < a->count; ++i) {
    if (::dup2(a->sources[i], a->targets[i]) < 0) {
      a->exec_errno = errno;
      ::_exit(127);
    }
  }
  char arg0[] = "hull-init";
  char arg1[] = "__hull_init";
  char* argv[] = {arg0, arg1, nullptr};
  char* envp[] = {nullptr};
  ::execve("/proc/self/exe", argv, envp);
  a->exec_errno = errno;
  ::_exit(127);
}

}  // namespace

Result<Spawned> spawn_init(std::span<const FdMapping> fds) {
  std::vector<UniqueFd> dups;
  std::vector<int> sources, targets;
  for (const auto& m : fds) {
    if (m.target < 0 || m.target >= kMaxTargetFd) {
      return fail(Errc::Internal, cat("spawn: target fd ", m.target, " out of range"));
    }
    int d = ::fcntl(m.source, F_DUPFD_CLOEXEC, kMaxTargetFd);
    if (d < 0) return fail_errno(cat("spawn: dup fd ", m.source));
    dups.emplace_back(d);
    sources.push_back(d);
    targets.push_back(m.target);
  }
  void* stack = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return fail_errno("spawn: stack");
  ChildArgs args{sources.data(), targets.data(), sources.size(), 0};

  // No signal handler of the agent may run in the child on the shared memory.
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  pid_t pid = ::clone(child_main, static_cast<char*>(stack) + kStackSize,
                      CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &args, &pidfd);
  int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, kStackSize);
  if (pid < 0) return fail_errno("spawn: clone", clone_errno);
  UniqueFd owned(pidfd);
  if (args.exec_errno != 0) {
    reap_owned(owned.get());
    return fail_errno("spawn: exec /proc/self/exe", args.exec_errno);
  }
  return Spawned{pid, std::move(owned)};
}

void reap_owned(int pidfd) {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
  }
}

}  // namespace hull::engine
