// TestPipe: a pipe for tests of code that reads or writes descriptors.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "common/unique_fd.h"

namespace hull {

struct TestPipe {
  UniqueFd rd, wr;

  // `flags`: pipe2's (O_CLOEXEC, O_NONBLOCK).
  static TestPipe make(int flags = O_CLOEXEC) {
    int p[2];
    EXPECT_EQ(::pipe2(p, flags), 0);
    return {UniqueFd(p[0]), UniqueFd(p[1])};
  }

  // Everything written until every writer is gone (close wr first).
  std::string drain() { return drain(rd.get()); }

  static std::string drain(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
  }
};

}  // namespace hull
