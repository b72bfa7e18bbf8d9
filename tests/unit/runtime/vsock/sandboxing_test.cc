// The compiled-in seccomp allow-list: a forbidden syscall kills with SIGSYS,
// allowed ones keep working. Each case runs in a forked child.
#include "runtime/vsock/sandboxing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace hull::vsock {
namespace {

// Runs `body` in a child after enter_sandbox(); returns the raw wait status.
int run_sandboxed(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!enter_sandbox()) ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(Seccomp, AllowListNamesRealSyscalls) {
  ASSERT_FALSE(seccomp_allowlist().empty());
  for (const SeccompRule& r : seccomp_allowlist())
    EXPECT_NE(seccomp_syscall_resolve_name(r.syscall), __NR_SCMP_ERROR) << r.syscall;
}

TEST(Seccomp, ForbiddenSyscallKillsWithSigsys) {
  const int status = run_sandboxed([] {
    ::syscall(SYS_mkdirat, AT_FDCWD, "/tmp/hull-vsock-seccomp-must-not-exist", 0700);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << "exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST(Seccomp, ExecIsForbidden) {
  const int status = run_sandboxed([] {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv("/bin/true", argv);
    return 3;
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

TEST(Seccomp, OnlyUnixSocketsMayBeCreated) {
  const int unix_ok = run_sandboxed([] {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return fd >= 0 ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(unix_ok));
  EXPECT_EQ(WEXITSTATUS(unix_ok), 0);
  const int inet = run_sandboxed([] {
    ::socket(AF_INET, SOCK_STREAM, 0);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(inet));
  EXPECT_EQ(WTERMSIG(inet), SIGSYS);
}

TEST(Seccomp, WhatTheBackendNeedsStillWorks) {
  const int status = run_sandboxed([] {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) return 4;  // socketpair is not listed
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(status));  // documents that socketpair is not allowed
  const int ok = run_sandboxed([] {
    void* p = ::malloc(1 << 20);
    ::free(p);
    const char msg[] = "";
    return ::write(2, msg, 0) == 0 ? 0 : 5;
  });
  ASSERT_TRUE(WIFEXITED(ok));
  EXPECT_EQ(WEXITSTATUS(ok), 0);
}

TEST(Capabilities, AllDroppedInChild) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!drop_capabilities()) ::_exit(1);
    // With no CAP_CHOWN, even root cannot chown a file to another user.
    char path[] = "/tmp/hull-vsock-cap-XXXXXX";
    const int fd = ::mkstemp(path);
    const int rc = ::fchown(fd, 12345, 12345);
    ::unlink(path);
    ::_exit(rc < 0 && errno == EPERM ? 0 : 2);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace hull::vsock
