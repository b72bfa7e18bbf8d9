// guest-image/check-config.sh: every option of the fragment must survive olddefconfig.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "common/process.h"
#include "temp_dir.h"

namespace hull::guest_image {
namespace {

using ::testing::HasSubstr;

const std::string kScript = std::string(HULL_SOURCE_DIR) + "/guest-image/check-config.sh";
const std::string kFragment = std::string(HULL_SOURCE_DIR) + "/guest-image/guest.config";

CommandOutput check(const std::string& fragment, const std::string& config) {
  auto r = run_capture({kScript, fragment, config}, std::chrono::seconds(30));
  EXPECT_TRUE(r) << r.error().what();
  return r ? *r : CommandOutput{};
}

// A .config as olddefconfig writes it, holding every line of the fragment.
std::string config_satisfying(const std::string& fragment) {
  std::string config = "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_CC_IS_GCC=y\n";
  size_t pos = 0;
  while (pos < fragment.size()) {
    size_t nl = fragment.find('\n', pos);
    std::string line = fragment.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? fragment.size() : nl + 1;
    if (line.starts_with("CONFIG_") ||
        (line.starts_with("# CONFIG_") && line.ends_with(" is not set"))) {
      config += line + "\n";
    }
  }
  return config;
}

std::string without_line(std::string text, const std::string& line) {
  size_t at = text.find(line + "\n");
  EXPECT_NE(at, std::string::npos) << line;
  if (at != std::string::npos) text.erase(at, line.size() + 1);
  return text;
}

class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = read_file(kFragment, 1 << 20);
    ASSERT_TRUE(f);
    fragment_ = *f;
  }
  std::string write(const std::string& name, const std::string& text) {
    EXPECT_TRUE(write_file_atomic(tmp_ / name, text));
    return tmp_ / name;
  }
  TempDir tmp_;
  std::string fragment_;
};

TEST_F(CheckConfigTest, CompleteConfigPasses) {
  auto r = check(kFragment, write("config", config_satisfying(fragment_)));
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output, "");
}

TEST_F(CheckConfigTest, ReportsAnOptionOlddefconfigDropped) {
  // olddefconfig drops CONFIG_CGROUP_BPF when BPF_SYSCALL is off: the line disappears.
  std::string config = without_line(config_satisfying(fragment_), "CONFIG_CGROUP_BPF=y");
  auto r = check(kFragment, write("config", config));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.output, "CONFIG_CGROUP_BPF: wanted y, got absent\n");
}

TEST_F(CheckConfigTest, ReportsEveryChangedValue) {
  std::string config = config_satisfying(fragment_);
  config = without_line(config, "CONFIG_PSI=y") + "# CONFIG_PSI is not set\n";
  config = without_line(config, "CONFIG_NR_CPUS=16") + "CONFIG_NR_CPUS=64\n";
  config = without_line(config, "# CONFIG_VT is not set") + "CONFIG_VT=y\n";
  auto r = check(kFragment, write("config", config));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_THAT(r.output, HasSubstr("CONFIG_PSI: wanted y, got not set\n"));
  EXPECT_THAT(r.output, HasSubstr("CONFIG_NR_CPUS: wanted 16, got 64\n"));
  EXPECT_THAT(r.output, HasSubstr("CONFIG_VT: wanted not set, got y\n"));
}

TEST_F(CheckConfigTest, NotSetIsSatisfiedByAnAbsentLine) {
  // A hidden option (its dependency is off) has no line at all: that is "not set".
  std::string config = without_line(config_satisfying(fragment_), "# CONFIG_VT is not set");
  auto r = check(kFragment, write("config", config));
  EXPECT_EQ(r.exit_status, 0) << r.output;
}

TEST_F(CheckConfigTest, QuotedValuesAreComparedExactly) {
  std::string frag = write("frag", "CONFIG_CMDLINE=\"a b\"\n");
  EXPECT_EQ(check(frag, write("ok", "CONFIG_CMDLINE=\"a b\"\n")).exit_status, 0);
  auto r = check(frag, write("bad", "CONFIG_CMDLINE=\"a\"\n"));
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.output, "CONFIG_CMDLINE: wanted \"a b\", got \"a\"\n");
}

TEST_F(CheckConfigTest, UsageAndUnreadableFiles) {
  EXPECT_EQ(check(kFragment, tmp_ / "missing").exit_status, 2);
  auto r = run_capture({kScript, kFragment}, std::chrono::seconds(30));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_status, 2);
  EXPECT_THAT(r->output, HasSubstr("usage"));
}

}  // namespace
}  // namespace hull::guest_image
