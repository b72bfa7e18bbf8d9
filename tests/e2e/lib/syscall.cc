// hull-e2e-syscall NR...: makes each raw syscall NR with all arguments 0 and
// prints "NR: ok" or "NR: <strerror>", one line each. Linked -static so it
// runs in the busybox rootfs; used to see what a seccomp filter answers for
// a syscall number (tests/e2e/cli-security.bats). Pick numbers that are harmless with
// zero arguments.
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* end = nullptr;
    long nr = std::strtol(argv[i], &end, 10);
    if (!*argv[i] || *end) {
      std::fprintf(stderr, "hull-e2e-syscall: %s is not a syscall number\n", argv[i]);
      return 2;
    }
    long rc = ::syscall(nr, 0, 0, 0, 0, 0, 0);
    if (rc < 0) {
      std::printf("%ld: %s\n", nr, ::strerror(errno));
    } else {
      std::printf("%ld: ok\n", nr);
    }
  }
  return 0;
}
