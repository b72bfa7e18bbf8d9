// hull-e2e-threads N: starts N threads besides the main one, then all of
// them sleep until the process is killed. Linked -static so it runs in the
// busybox rootfs (whose programs are all single-threaded); used to see
// threads in `ps -L` and the like (tests/e2e/cli-exec.bats).
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

void* sleeper(void*) {
  for (;;) ::pause();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 2;
  if (n < 0 || n > 64) {
    std::fprintf(stderr, "hull-e2e-threads: %s threads? give 0 to 64\n", argv[1]);
    return 2;
  }
  for (long i = 0; i < n; ++i) {
    pthread_t t;
    if (::pthread_create(&t, nullptr, sleeper, nullptr) != 0) {
      std::perror("hull-e2e-threads: pthread_create");
      return 1;
    }
  }
  for (;;) ::pause();
}
