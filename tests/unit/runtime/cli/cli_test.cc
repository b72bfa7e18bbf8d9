// The `hull` binary's skeleton commands and runc-style error handling.
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include <cstdio>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/oci/spec.h"

namespace {

struct HullRun {
  int status = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hull-cli-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // Runs `hull <args>` through the shell with extra environment `env`.
  HullRun hull(const std::string& args, const std::string& env = "") {
    std::string cmd = env + " " HULL_BINARY_DIR "/runtime/cli/hull " + args + " >" + dir_ +
                      "/out 2>" + dir_ + "/err";
    int rc = std::system(cmd.c_str());
    HullRun r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = hull::read_file(dir_ + "/out", 1 << 20).value_or("");
    r.err = hull::read_file(dir_ + "/err", 1 << 20).value_or("");
    return r;
  }

  std::string dir_;
};

TEST_F(CliTest, VersionFlagAndCommand) {
  auto r = hull("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("hull version"), std::string::npos);
  EXPECT_NE(r.out.find("spec: 1.1.0"), std::string::npos);
  r = hull("version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("commit: "), std::string::npos);
}

TEST_F(CliTest, UnknownCommandIsRuncShapedExit1) {
  auto r = hull("frobnicate");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No help topic for 'frobnicate'"), std::string::npos) << r.err;
}

// runc's help layout (urfave/cli): what scripts grep for in `runc --help`.
TEST_F(CliTest, ProgramHelpHasRuncsLayout) {
  for (const char* how : {"--help", "-h", "help", "h", ""}) {
    auto r = hull(how);
    EXPECT_EQ(r.status, 0) << how;
    EXPECT_EQ(r.out.rfind("NAME:\n   hull - ", 0), 0u) << how << ": " << r.out;
    EXPECT_NE(r.out.find("\nUSAGE:\n   hull [global options] command [command options] "
                         "[arguments...]\n"),
              std::string::npos)
        << how << ": " << r.out;
    EXPECT_NE(r.out.find("\nCOMMANDS:\n   create "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n   help, h "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nGLOBAL OPTIONS:\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n   --root value "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n   --help, -h "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("__monitor"), std::string::npos) << r.out;  // hidden
  }
}

TEST_F(CliTest, EveryCommandsHelpHasRuncsLayout) {
  for (const char* cmd :
       {"create", "delete", "events", "exec", "kill", "list", "pause", "ps", "resume", "run",
        "spec", "start", "state", "update", "features", "version", "check"}) {
    for (std::string how : {std::string(cmd) + " --help", std::string(cmd) + " -h",
                            std::string("help ") + cmd, std::string("h ") + cmd}) {
      auto r = hull(how);
      EXPECT_EQ(r.status, 0) << how << ": " << r.err;
      EXPECT_EQ(r.out.rfind(std::string("NAME:\n   hull ") + cmd + " - ", 0), 0u)
          << how << ": " << r.out;
      EXPECT_NE(r.out.find(std::string("\nUSAGE:\n   hull ") + cmd), std::string::npos)
          << how << ": " << r.out;
    }
  }
  auto r = hull("kill --help");
  EXPECT_NE(r.out.find("   hull kill [command options] <container-id> [signal]\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nOPTIONS:\n   --all, -a  "), std::string::npos) << r.out;
  r = hull("create -h");
  EXPECT_NE(r.out.find("   hull create [command options] <container-id>\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\n   --bundle value, -b value  "), std::string::npos) << r.out;
  r = hull("state -h");
  EXPECT_NE(r.out.find("   hull state <container-id>\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("OPTIONS:"), std::string::npos) << r.out;  // none but --help
}

TEST_F(CliTest, HelpForAnUnknownCommandFails) {
  for (const char* how :
       {"frobnicate -h", "frobnicate --help", "help frobnicate", "--root /tmp frobnicate -h"}) {
    auto r = hull(how);
    EXPECT_NE(r.status, 0) << how;
    EXPECT_NE(r.err.find("No help topic for 'frobnicate'"), std::string::npos) << how << r.err;
    EXPECT_EQ(r.out.find("NAME:"), std::string::npos) << how << r.out;
  }
}

TEST_F(CliTest, UnknownFlagIsRuncShapedExit1) {
  auto r = hull("--frob spec");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Incorrect Usage"), std::string::npos) << r.err;
  r = hull("spec --no-such-flag");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Incorrect Usage"), std::string::npos) << r.err;
}

TEST_F(CliTest, SpecWritesAValidDefaultAndRefusesToOverwrite) {
  auto r = hull("spec --bundle " + dir_);
  ASSERT_EQ(r.status, 0) << r.err;
  auto spec = hull::oci::load_spec_file(dir_ + "/config.json");
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(spec->hostname.value_or(""), "hull");
  ASSERT_TRUE(spec->process);
  EXPECT_EQ(spec->process->args.value_or(std::vector<std::string>{}).at(0), "sh");

  r = hull("spec -b " + dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("config.json exists. Remove it first"), std::string::npos) << r.err;
}

TEST_F(CliTest, SpecInCurrentDirectoryAndRootless) {
  auto r = hull("spec --rootless", "cd " + dir_ + " &&");
  ASSERT_EQ(r.status, 0) << r.err;
  auto spec = hull::oci::load_spec_file(dir_ + "/config.json");
  ASSERT_TRUE(spec) << spec.error().what();
  ASSERT_TRUE(spec->linux && spec->linux->uid_mappings);
  EXPECT_EQ(spec->linux->uid_mappings->size(), 1u);
}

// runc spec adds {"type": "cgroup"} only where the host is cgroup v2 unified;
// scripts for v1/hybrid hosts append it themselves.
TEST_F(CliTest, SpecHasACgroupNamespaceOnlyOnCgroup2UnifiedHosts) {
  struct statfs fs {};
  ASSERT_EQ(statfs("/sys/fs/cgroup", &fs), 0);
  bool unified = static_cast<unsigned long>(fs.f_type) == CGROUP2_SUPER_MAGIC;
  for (const char* flags : {"", "--rootless "}) {
    std::remove((dir_ + "/config.json").c_str());
    auto r = hull(std::string("spec ") + flags + "--bundle " + dir_);
    ASSERT_EQ(r.status, 0) << r.err;
    auto spec = hull::oci::load_spec_file(dir_ + "/config.json");
    ASSERT_TRUE(spec) << spec.error().what();
    bool has_cgroup_ns = false;
    for (const auto& ns : spec->linux->namespaces.value()) has_cgroup_ns |= ns.type == "cgroup";
    EXPECT_EQ(has_cgroup_ns, unified) << flags;
  }
}

TEST_F(CliTest, SpecIntoMissingBundleSaysWhatToDo) {
  auto r = hull("spec --bundle " + dir_ + "/nope");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
}

TEST_F(CliTest, FeaturesIsTruthfulJson) {
  auto r = hull("features");
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ociVersionMin"], "1.0.0");
  EXPECT_EQ(j["linux"]["cgroup"]["v2"], true);
  EXPECT_EQ(j["linux"]["cgroup"]["v1"], true);  // the host cgroup (runtime/hostcgroup)
  EXPECT_EQ(j["linux"]["cgroup"]["systemd"], false);
  EXPECT_TRUE(j["annotations"].contains("io.hull.cgroup.host"));
  EXPECT_EQ(j["linux"]["apparmor"]["enabled"], false);
  EXPECT_EQ(j["linux"]["seccomp"]["enabled"], true);
  EXPECT_EQ(j["hooks"].size(), 6u);
  bool has_kill = false;
  for (const auto& c : j["linux"]["capabilities"]) has_kill |= c == "CAP_KILL";
  EXPECT_TRUE(has_kill);
}

TEST_F(CliTest, CheckFailsOnMissingQemuAndNamesIt) {
  std::ofstream(dir_ + "/config.json")
      << R"({"hypervisor": {"path": "/nonexistent/qemu"}, "vm": {"kernel": "/nonexistent/k"}})";
  auto r = hull("check", "HULL_CONFIG=" + dir_ + "/config.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("FAIL  qemu        /nonexistent/qemu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL  kernel"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("OK    config"), std::string::npos) << r.out;
}

TEST_F(CliTest, CheckReportsABadConfigFile) {
  std::ofstream(dir_ + "/config.json") << R"({"vm": {"vcpus": "many"}})";
  auto r = hull("check", "HULL_CONFIG=" + dir_ + "/config.json");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("vm.vcpus: must be an integer between 1 and 64"), std::string::npos)
      << r.out;
}

TEST_F(CliTest, ErrorsGoToTheJsonLogInRuncsShape) {
  std::string log = dir_ + "/log.json";
  auto r = hull("--log " + log + " --log-format json spec --bundle " + dir_ + "/nope");
  EXPECT_EQ(r.status, 1);
  auto text = hull::read_file(log, 1 << 20);
  ASSERT_TRUE(text);
  auto line = nlohmann::json::parse(text->substr(0, text->find('\n')));
  EXPECT_EQ(line["level"], "error");
  EXPECT_NE(line["msg"].get<std::string>().find("not a directory"), std::string::npos);
  EXPECT_TRUE(line["time"].is_string());
}

TEST_F(CliTest, BadLogFormatIsRefused) {
  auto r = hull("--log-format yaml features");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("invalid log format \"yaml\""), std::string::npos) << r.err;
}

}  // namespace
