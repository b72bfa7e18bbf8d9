// hull-vsock: the vhost-user-vsock backend (one per sandbox VM).
#include <cstdio>

#include "common/version.h"

int main() {
  std::fprintf(stderr, "hull-vsock %s: the vhost-user backend comes with the sandbox issue\n",
               hull::kVersion);
  return 1;
}
