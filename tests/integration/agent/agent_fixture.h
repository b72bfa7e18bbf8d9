// One sandbox per test fixture (VM boots are the slow part): AgentFixture<Tag>
// boots it in SetUpTestSuite with a private runtime root and a busybox rootfs,
// and in TearDownTestSuite stops it and checks that nothing is left behind
// (no process, mount or file under the root). Each Tag is its own sandbox.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "agent_env.h"
#include "sandbox_env.h"

namespace hull::sandbox::testing {

// Joins `t` on scope exit, after `stop` has made it end (a failed ASSERT
// must not leave a joinable thread behind).
struct JoinOnExit {
  std::thread& t;
  std::function<void()> stop;
  ~JoinOnExit() {
    if (!t.joinable()) return;
    stop();
    t.join();
  }
};

template <class Tag>
class AgentFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!environment_ready(&why_)) return;
    root_ = make_root();
    if (root_.empty()) {
      why_ = "mkdtemp failed";
      return;
    }
    rootfs_ = root_ + "/rootfs";
    if (!make_busybox_rootfs(rootfs_, &why_)) return;
    SandboxOptions opts = options_for(root_, Tag::kName);
    // HULL_IT_GUEST_LOG=debug: the agent's debug log on the console (printed on failure).
    if (const char* level = std::getenv("HULL_IT_GUEST_LOG")) {
      opts.config.vm.kernel_params = std::string("hull.log=") + level;
    }
    auto sb = Sandbox::start(opts);
    if (!sb) {
      why_ = "sandbox start failed: " + sb.error().what();
      ADD_FAILURE() << why_;
      return;
    }
    sb_ = std::move(*sb);
  }

  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (sb_ && suite && suite->failed_test_count() > 0) {
      // The guest's side of a failure: the agent logs to the console.
      std::ifstream in(sb_->paths().console_log);
      std::vector<std::string> lines;
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      size_t from = lines.size() > 60 ? lines.size() - 60 : 0;
      std::string tail;
      for (size_t i = from; i < lines.size(); ++i) tail += "  " + lines[i] + "\n";
      std::fprintf(stderr, "guest console (last lines):\n%s", tail.c_str());
    }
    if (sb_) {
      EXPECT_TRUE(sb_->stop()) << "stop";
      sb_.reset();
    }
    if (root_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(rootfs_, ec);
    EXPECT_EQ(mounts_under(root_), std::vector<std::string>{});
    EXPECT_EQ(processes_mentioning(root_), std::vector<pid_t>{});
    EXPECT_EQ(leftovers(root_), "");
    cleanup_root(root_);
    root_.clear();
  }

  void SetUp() override {
    if (!sb_) GTEST_SKIP() << why_;
  }

  static std::string next_id(const std::string& base) {
    return base + "-" + std::to_string(counter_++);
  }

  Result<std::unique_ptr<TestContainer>> create(const std::string& id, const oci::Spec& spec,
                                                StdioMode stdio = {}) {
    return TestContainer::create(*sb_, rootfs_, id, spec, stdio);
  }

  GrpcContainerClient client() { return GrpcContainerClient(sb_->agent()); }

  static inline std::unique_ptr<Sandbox> sb_;
  static inline std::string root_;
  static inline std::string rootfs_;
  static inline std::string why_;
  static inline std::atomic<int> counter_{0};
};

}  // namespace hull::sandbox::testing
