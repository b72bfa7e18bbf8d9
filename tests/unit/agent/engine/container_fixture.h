// The busybox container fixture shared by container_test.cc (lifecycle)
// and container_setup_test.cc (what the container sees inside).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "agent/engine/container.h"
#include "tests/unit/agent/engine/fixture.h"

namespace hull::engine {

using test::base_spec;
using test::ContainerGuard;
using test::Output;

class ContainerTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { rootfs_ = new test::BusyboxRootfs(); }
  static void TearDownTestSuite() {
    delete rootfs_;
    rootfs_ = nullptr;
  }
  void SetUp() override {
    if (!test::running_as_root()) GTEST_SKIP() << "needs root (namespaces, mounts)";
    if (!rootfs_->ok()) GTEST_SKIP() << "needs /bin/busybox (busybox-static)";
  }
  static oci::Spec spec(const std::string& script) { return base_spec(rootfs_->path(), script); }

  static Output run_ok(const oci::Spec& s) {
    auto r = test::run(s, test_id());
    EXPECT_TRUE(r) << (r ? "" : r.error().what());
    return r.value_or(Output{});
  }
  static std::string test_id() {
    return testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  static CreateOptions options(const oci::Spec& s, Stdio stdio = {}) {
    CreateOptions o;
    o.id = test_id();
    o.spec = s;
    o.cgroup_root = std::nullopt;
    o.stdio = stdio;
    o.timeout = std::chrono::seconds(20);
    return o;
  }

  static inline test::BusyboxRootfs* rootfs_ = nullptr;
};

// Pipe for collecting a container's output.
struct OutPipe {
  UniqueFd rd, wr;
  OutPipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    rd.reset(p[0]);
    wr.reset(p[1]);
  }
  Stdio stdio() const { return {-1, wr.get(), wr.get()}; }
};

}  // namespace hull::engine
