#include "runtime/config/config.h"

#include <stdlib.h>

#include <fstream>

#include <gtest/gtest.h>

namespace hull::config {
namespace {

std::string error_of(std::string_view text) {
  auto r = parse(text, "/etc/hull/config.json");
  EXPECT_FALSE(r) << "expected an error for: " << text;
  return r ? "" : r.error().what();
}

TEST(Config, EmptyObjectGivesDefaults) {
  auto c = parse("{}", "x.json");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->hypervisor.path, "/usr/bin/qemu-system-x86_64");
  EXPECT_EQ(c->hypervisor.accel, Accel::Auto);
  EXPECT_TRUE(c->hypervisor.sandbox);
  EXPECT_EQ(c->vm.vcpus, 1u);
  EXPECT_EQ(c->vm.memory_mib, 256u);
  EXPECT_EQ(c->vm.kernel, "/usr/local/share/hull/vmlinux");
  EXPECT_EQ(c->vm.start_timeout_s, 300u);
  EXPECT_EQ(c->vm.console_log_mib, 1u);
  EXPECT_EQ(c->virtiofsd.cache, VirtiofsCache::Auto);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_EQ(c->source, "x.json");
}

TEST(Config, EveryKeyOverrides) {
  auto c = parse(R"({
    "hypervisor": {"path": "/opt/qemu", "accel": "tcg", "sandbox": false},
    "vm": {"vcpus": 2, "memory_mib": 512, "kernel": "/k", "initrd": "/i", "kernel_params": "x=1",
           "start_timeout_s": 60, "console_log_mib": 8},
    "virtiofsd": {"path": "/v", "cache": "never"},
    "log_level": "debug"})",
                 "x.json");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->hypervisor.path, "/opt/qemu");
  EXPECT_EQ(c->hypervisor.accel, Accel::Tcg);
  EXPECT_FALSE(c->hypervisor.sandbox);
  EXPECT_EQ(c->vm.vcpus, 2u);
  EXPECT_EQ(c->vm.memory_mib, 512u);
  EXPECT_EQ(c->vm.kernel, "/k");
  EXPECT_EQ(c->vm.initrd, "/i");
  EXPECT_EQ(c->vm.kernel_params, "x=1");
  EXPECT_EQ(c->vm.start_timeout_s, 60u);
  EXPECT_EQ(c->vm.console_log_mib, 8u);
  EXPECT_EQ(virtiofsd_path(*c), "/v");
  EXPECT_EQ(c->virtiofsd.cache, VirtiofsCache::Never);
  EXPECT_EQ(c->log_level, "debug");
}

TEST(Config, JailUserAndGroup) {
  auto d = parse("{}", "x.json");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->jail.user, "hull");
  EXPECT_EQ(d->jail.group, "");
  auto c = parse(R"({"jail": {"user": "qemu-runner", "group": "4242"}})", "x.json");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->jail.user, "qemu-runner");
  EXPECT_EQ(c->jail.group, "4242");
  auto empty = parse(R"({"jail": {"user": ""}})", "x.json");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().what().find("jail.user"), std::string::npos) << empty.error().what();
  auto unknown = parse(R"({"jail": {"uid": 5}})", "x.json");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what().find("jail.uid"), std::string::npos) << unknown.error().what();
  auto again = parse(to_json_text(*c), "again");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->jail.user, "qemu-runner");
}

TEST(Config, UnknownKeysNameTheKey) {
  EXPECT_NE(error_of(R"({"vm": {"cpus": 2}})").find("/etc/hull/config.json: vm.cpus: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"hypervisr": {}})").find("hypervisr: unknown key"), std::string::npos);
}

TEST(Config, WrongTypesAndRangesNameTheKey) {
  EXPECT_EQ(error_of(R"({"vm": {"start_timeout_s": 5}})"),
            "/etc/hull/config.json: vm.start_timeout_s: must be an integer between 10 and 3600");
  EXPECT_EQ(error_of(R"({"vm": {"console_log_mib": 0}})"),
            "/etc/hull/config.json: vm.console_log_mib: must be an integer between 1 and 1024");
  EXPECT_EQ(error_of(R"({"vm": {"vcpus": "2"}})"),
            "/etc/hull/config.json: vm.vcpus: must be an integer between 1 and 64");
  EXPECT_EQ(error_of(R"({"vm": {"vcpus": 0}})"),
            "/etc/hull/config.json: vm.vcpus: must be an integer between 1 and 64");
  EXPECT_EQ(error_of(R"({"vm": {"memory_mib": -5}})"),
            "/etc/hull/config.json: vm.memory_mib: must be an integer between 64 and 1048576");
  EXPECT_EQ(error_of(R"({"vm": {"memory_mib": 18446744073709551616}})"),
            "/etc/hull/config.json: vm.memory_mib: must be an integer between 64 and 1048576");
  EXPECT_EQ(error_of(R"({"hypervisor": {"sandbox": "yes"}})"),
            "/etc/hull/config.json: hypervisor.sandbox: must be true or false");
  EXPECT_EQ(error_of(R"({"hypervisor": {"accel": "xen"}})"),
            "/etc/hull/config.json: hypervisor.accel: must be one of auto, kvm, tcg (got \"xen\")");
  EXPECT_EQ(error_of(R"({"vm": {"kernel": "vmlinux"}})"),
            "/etc/hull/config.json: vm.kernel: must be an absolute path");
  EXPECT_EQ(error_of(R"({"vm": []})"), "/etc/hull/config.json: vm: must be an object");
  EXPECT_EQ(error_of(R"([])"), "/etc/hull/config.json: top level: must be an object");
  EXPECT_NE(error_of(R"({"vm": )").find("not valid JSON"), std::string::npos);
}

TEST(Config, CapsAndAllowedAnnotations) {
  auto c = parse(R"({"vm": {"max_vcpus": 4, "max_memory_mib": 2048,
                     "allowed_annotations": ["io.hull.vm.vcpus"]}})",
                 "/etc/hull/config.json");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->vm.max_vcpus, 4u);
  EXPECT_EQ(c->vm.max_memory_mib, 2048u);
  EXPECT_EQ(c->vm.allowed_annotations, std::vector<std::string>{"io.hull.vm.vcpus"});
  auto d = parse("{}", "x");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->vm.allowed_annotations.empty());
  EXPECT_EQ(d->vm.max_vcpus, 0u);
  EXPECT_EQ(d->vm.max_memory_mib, 0u);
  EXPECT_NE(
      error_of(R"({"vm": {"allowed_annotations": ["io.hull.vm.gpu"]}})")
          .find("vm.allowed_annotations[0]: \"io.hull.vm.gpu\" is not an annotation hull knows"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"vm": {"allowed_annotations": "io.hull.vm.vcpus"}})")
                .find("vm.allowed_annotations: must be an array"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"vm": {"vcpus": 8, "max_vcpus": 4}})"),
            "/etc/hull/config.json: vm.vcpus: 8 is above vm.max_vcpus (4): lower one or raise "
            "the other");
  EXPECT_NE(error_of(R"({"vm": {"max_memory_mib": 10}})").find("vm.max_memory_mib: must be 0"),
            std::string::npos);
}

TEST(Config, LoadHonoursHullConfigEnv) {
  char tmpl[] = "/tmp/hull-config-test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/config.json";
  std::ofstream(path) << R"({"vm": {"memory_mib": 128}})";
  setenv(kConfigEnv, path.c_str(), 1);
  auto c = load();
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->vm.memory_mib, 128u);
  EXPECT_EQ(c->source, path);

  setenv(kConfigEnv, (std::string(tmpl) + "/missing.json").c_str(), 1);
  auto missing = load();
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find("$HULL_CONFIG"), std::string::npos);
  unsetenv(kConfigEnv);
  std::remove(path.c_str());
  rmdir(tmpl);
}

TEST(Config, JsonTextRoundTrips) {
  Config c;
  c.vm.vcpus = 3;
  auto again = parse(to_json_text(c), "again");
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(again->vm.vcpus, 3u);
}

}  // namespace
}  // namespace hull::config
