// Profile compilation (no loading here; container_test.cc runs filtered
// containers).
#include "agent/engine/seccomp.h"

#include <gtest/gtest.h>
#include <linux/filter.h>

#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cstring>
#include <functional>

#include "common/file.h"

namespace hull::engine {
namespace {

oci::Seccomp docker_default() {
  auto text =
      read_file(std::string(HULL_SOURCE_DIR) + "/tests/data/seccomp/docker-default.json", 1 << 20);
  EXPECT_TRUE(text);
  std::string spec =
      "{\"ociVersion\":\"1.1.0\",\"linux\":{\"seccomp\":" + text.value_or("{}") + "}}";
  auto s = oci::parse_spec(spec, "docker-default.json");
  EXPECT_TRUE(s) << (s ? "" : s.error().what());
  return s ? *s->linux->seccomp : oci::Seccomp{};
}

oci::Seccomp deny_mkdir() {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  oci::Syscall sc;
  sc.names = {"mkdir", "mkdirat"};
  sc.action = "SCMP_ACT_ERRNO";
  p.syscalls = std::vector<oci::Syscall>{sc};
  return p;
}

TEST(Seccomp, DockerDefaultCompiles) {
  auto prog = compile_seccomp(docker_default());
  ASSERT_TRUE(prog) << prog.error().what();
  EXPECT_GT(prog->bpf.size(), 100 * sizeof(sock_filter));
  EXPECT_EQ(prog->bpf.size() % sizeof(sock_filter), 0u);
  EXPECT_EQ(prog->flags, 0u);
}

TEST(Seccomp, SimpleRuleAndFlags) {
  oci::Seccomp p = deny_mkdir();
  p.flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto prog = compile_seccomp(p);
  ASSERT_TRUE(prog) << prog.error().what();
  EXPECT_EQ(prog->flags, 6u);  // LOG (2) | SPEC_ALLOW (4)
}

TEST(Seccomp, UnknownSyscallNamesAreSkipped) {
  oci::Seccomp p = deny_mkdir();
  (*p.syscalls)[0].names.push_back("no_such_syscall_yet");
  EXPECT_TRUE(compile_seccomp(p));
}

TEST(Seccomp, RuleRepeatingTheDefaultIsSkipped) {
  oci::Seccomp p = deny_mkdir();
  (*p.syscalls)[0].action = "SCMP_ACT_ALLOW";
  EXPECT_TRUE(compile_seccomp(p));
}

TEST(Seccomp, SameArgumentTwiceIsAnOr) {
  oci::Seccomp p = deny_mkdir();
  oci::SeccompArg a{1, 0700, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()};
  oci::SeccompArg b{1, 0755, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()};
  (*p.syscalls)[0].names = {"mkdir"};
  (*p.syscalls)[0].args = std::vector<oci::SeccompArg>{a, b};
  EXPECT_TRUE(
      compile_seccomp(p));  // libseccomp alone would refuse two conditions on arg 1 in one rule
}

std::string error_of(const oci::Seccomp& p) {
  auto r = compile_seccomp(p);
  return r ? std::string("no error") : r.error().msg;
}

TEST(Seccomp, ErrorsNameTheField) {
  oci::Seccomp p = deny_mkdir();
  p.default_action = "SCMP_ACT_MAYBE";
  EXPECT_EQ(error_of(p), "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_MAYBE\"");
  p = deny_mkdir();
  p.default_errno_ret = 5;
  EXPECT_EQ(error_of(p),
            "linux.seccomp.defaultAction: an errno return value needs SCMP_ACT_ERRNO or "
            "SCMP_ACT_TRACE, not SCMP_ACT_ALLOW");
  p = deny_mkdir();
  p.architectures = std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
  EXPECT_EQ(error_of(p), "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");
  p = deny_mkdir();
  p.flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_BOGUS"};
  EXPECT_EQ(error_of(p), "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
  p = deny_mkdir();
  (*p.syscalls)[0].args =
      std::vector<oci::SeccompArg>{{0, 1, std::nullopt, "SCMP_CMP_ABOUT", oci::Json::object()}};
  EXPECT_EQ(error_of(p),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  p = deny_mkdir();
  (*p.syscalls)[0].args =
      std::vector<oci::SeccompArg>{{6, 1, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
  EXPECT_EQ(error_of(p), "linux.seccomp.syscalls[0].args[0].index: must be less than 6");
  p = deny_mkdir();
  (*p.syscalls)[0].action = "SCMP_ACT_NOTIFY";
  auto r = compile_seccomp(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Unsupported);
  EXPECT_EQ(r.error().msg,
            "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported: a VM cannot pass "
            "the notification fd to the host's listenerPath");
}

constexpr std::array<const char*, 9> kActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

TEST(Seccomp, EveryActionAsARuleWorksOrIsRefusedNamingIt) {
  for (const char* a : kActions) {
    for (const char* def : {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS"}) {
      oci::Seccomp p = deny_mkdir();
      p.default_action = def;
      p.listener_path = "/run/agent.sock";
      p.syscalls->push_back((*p.syscalls)[0]);
      (*p.syscalls)[1].names = {"chmod"};
      (*p.syscalls)[1].action = a;
      auto r = compile_seccomp(p);
      if (std::string(a) == "SCMP_ACT_NOTIFY") {
        ASSERT_FALSE(r) << def;
        EXPECT_EQ(r.error().code, Errc::Unsupported);
        EXPECT_EQ(r.error().msg,
                  "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY is not supported: a VM "
                  "cannot pass the notification fd to the host's listenerPath");
      } else {
        EXPECT_TRUE(r) << a << " under " << def << ": " << r.error().what();
      }
    }
  }
}

TEST(Seccomp, EveryActionAsTheDefaultWorksOrIsRefusedNamingIt) {
  for (const char* a : kActions) {
    oci::Seccomp p = deny_mkdir();
    p.default_action = a;
    auto r = compile_seccomp(p);
    if (std::string(a) == "SCMP_ACT_NOTIFY") {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().msg.rfind("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY", 0), 0u)
          << r.error().msg;
    } else {
      EXPECT_TRUE(r) << a << ": " << r.error().what();
    }
  }
  for (const char* a : {"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"}) {
    oci::Seccomp p = deny_mkdir();
    p.default_action = a;
    p.default_errno_ret = 38;
    EXPECT_TRUE(compile_seccomp(p)) << a;
  }
}

TEST(Seccomp, MalformedProfilesAreRefusedNamingTheField) {
  struct Case {
    const char* what;
    std::function<void(oci::Seccomp&)> edit;
    const char* error;  // nullptr: compiles
  };
  const std::vector<Case> cases = {
      {"unknown rule action", [](auto& p) { (*p.syscalls)[0].action = "SCMP_ACT_PANIC"; },
       "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_PANIC\""},
      {"empty default action", [](auto& p) { p.default_action = ""; },
       "linux.seccomp.defaultAction: unknown action \"\""},
      {"only unknown syscall names",
       [](auto& p) {
         (*p.syscalls)[0].names = {"nosuch", "x"};
       },
       nullptr},
      {"an empty syscall name", [](auto& p) { (*p.syscalls)[0].names = {""}; }, nullptr},
      {"bad architecture", [](auto& p) { p.architectures = std::vector<std::string>{"x86_64"}; },
       "linux.seccomp.architectures[0]: unknown architecture \"x86_64\""},
      {"bad architecture suffix",
       [](auto& p) { p.architectures = std::vector<std::string>{"SCMP_ARCH_"}; },
       "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_\""},
      {"several architectures",
       [](auto& p) {
         p.architectures =
             std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                      "SCMP_ARCH_AARCH64", "SCMP_ARCH_X86_64"};
       },
       nullptr},
      {"bad arg op",
       [](auto& p) {
         (*p.syscalls)[0].args = std::vector<oci::SeccompArg>{
             {0, 1, std::nullopt, "SCMP_CMP_EQUAL", oci::Json::object()}};
       },
       "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_EQUAL\""},
      {"arg index 6",
       [](auto& p) {
         (*p.syscalls)[0].args =
             std::vector<oci::SeccompArg>{{6, 1, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
       },
       "linux.seccomp.syscalls[0].args[0].index: must be less than 6"},
      {"huge arg values",
       [](auto& p) {
         (*p.syscalls)[0].args = std::vector<oci::SeccompArg>{
             {5, ~0ULL, ~0ULL, "SCMP_CMP_MASKED_EQ", oci::Json::object()}};
       },
       nullptr},
      {"huge errnoRet", [](auto& p) { (*p.syscalls)[0].errno_ret = 70000; },
       "linux.seccomp.syscalls[0].errnoRet: 70000 is out of range (at most 65535)"},
      {"huge defaultErrnoRet",
       [](auto& p) {
         p.default_action = "SCMP_ACT_ERRNO";
         p.default_errno_ret = 4294967295u;
       },
       "linux.seccomp.defaultErrnoRet: 4294967295 is out of range (at most 65535)"},
      {"errnoRet on a kill rule",
       [](auto& p) {
         (*p.syscalls)[0].action = "SCMP_ACT_KILL";
         (*p.syscalls)[0].errno_ret = 1;
       },
       "linux.seccomp.syscalls[0].action: an errno return value needs SCMP_ACT_ERRNO or "
       "SCMP_ACT_TRACE, not SCMP_ACT_KILL"},
      {"unknown flag", [](auto& p) { p.flags = std::vector<std::string>{"TSYNC"}; },
       "linux.seccomp.flags[0]: unknown flag \"TSYNC\""},
      {"the same syscall twice with other actions",
       [](auto& p) {
         p.syscalls->push_back((*p.syscalls)[0]);
         (*p.syscalls)[1].action = "SCMP_ACT_KILL";
       },
       nullptr},
      {"no syscalls at all", [](auto& p) { p.syscalls.reset(); }, nullptr},
  };
  for (const auto& c : cases) {
    oci::Seccomp p = deny_mkdir();
    c.edit(p);
    auto r = compile_seccomp(p);
    if (!c.error) {
      EXPECT_TRUE(r) << c.what << ": " << r.error().what();
    } else {
      ASSERT_FALSE(r) << c.what;
      EXPECT_EQ(r.error().msg, c.error) << c.what;
    }
  }
}

TEST(Seccomp, SyscallLimitsPerArchitecture) {
  oci::Seccomp p = deny_mkdir();  // mkdir: 83 on x86_64, 39 on i386, none on aarch64
  p.architectures = std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                             "SCMP_ARCH_AARCH64"};
  (*p.syscalls)[0].names = {"mkdir", "no_such_syscall"};
  auto limits = syscall_limits(p);
  ASSERT_EQ(limits.size(), 3u);
  EXPECT_EQ(limits[0], (SyscallLimit{SCMP_ARCH_X86_64, false, 83}));
  EXPECT_EQ(limits[1], (SyscallLimit{SCMP_ARCH_X86, false, 39}));
  EXPECT_EQ(limits[2].audit_arch, SCMP_ARCH_X86_64);
  EXPECT_TRUE(limits[2].x32);
  EXPECT_EQ(limits[2].max_nr, 0x40000000u + 83);
  // No architectures listed: the native one.
  p.architectures.reset();
  limits = syscall_limits(p);
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits[0].audit_arch, seccomp_arch_native());
}

TEST(Seccomp, NoEnosysStubWhenUnknownSyscallsPassAnyway) {
  oci::Seccomp allow = deny_mkdir();  // default ALLOW
  oci::Seccomp deny = deny_mkdir();
  deny.default_action = "SCMP_ACT_KILL_PROCESS";
  (*deny.syscalls)[0].action = "SCMP_ACT_ALLOW";
  auto a = compile_seccomp(allow);
  auto d = compile_seccomp(deny);
  ASSERT_TRUE(a && d);
  // The stub compares with the highest number: its value is in the program.
  auto has_k = [](const std::string& bpf, uint32_t k) {
    for (size_t i = 0; i + sizeof(sock_filter) <= bpf.size(); i += sizeof(sock_filter)) {
      sock_filter f;
      std::memcpy(&f, bpf.data() + i, sizeof f);  // raw exported instructions
      if (f.k == SCMP_ACT_ERRNO(ENOSYS)) return true;
    }
    return k == 0;
  };
  EXPECT_FALSE(has_k(a->bpf, 1));
  EXPECT_TRUE(has_k(d->bpf, 1));
  deny.default_action = "SCMP_ACT_ERRNO";
  deny.default_errno_ret = ENOSYS;
  auto e = compile_seccomp(deny);
  ASSERT_TRUE(e);
  EXPECT_LT(e->bpf.size(), d->bpf.size());
}

// Loads the program in a child and reports what two syscalls answered.
struct Answers {
  int below = 0;  // errno of a known syscall the profile does not list
  int above = 0;  // errno of a syscall number above all the profile names
};
Answers run_filtered(const SeccompProgram& prog, long below_nr, long above_nr) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || !load_seccomp(prog)) ::_exit(100);
    int answers[2];
    answers[0] = ::syscall(below_nr, 0, 0, 0, 0, 0, 0) < 0 ? errno : 0;
    answers[1] = ::syscall(above_nr, 0, 0, 0, 0, 0, 0) < 0 ? errno : 0;
    (void)!::write(fds[1], answers, sizeof answers);
    ::syscall(SYS_exit_group, 0);
    ::syscall(SYS_exit, 0);  // when the profile answered exit_group with ENOSYS
    ::_exit(101);
  }
  ::close(fds[1]);
  int answers[2] = {-1, -1};
  EXPECT_EQ(::read(fds[0], answers, sizeof answers), static_cast<ssize_t>(sizeof answers));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return Answers{answers[0], answers[1]};
}

TEST(Seccomp, SyscallsNewerThanTheProfileGetEnosys) {
#if defined(__x86_64__)
  // defaultErrnoRet EPERM; getppid (110) is the highest syscall listed.
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  p.architectures = std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  oci::Syscall allow;
  allow.names = {"write", "exit", "getpid", "getppid"};
  allow.action = "SCMP_ACT_ALLOW";
  p.syscalls = std::vector<oci::Syscall>{allow};
  auto prog = compile_seccomp(p);
  ASSERT_TRUE(prog) << prog.error().what();
  // getuid (102): known to the profile's author, not listed: EPERM. 435
  // (clone3) and 1000: above getppid, ENOSYS. exit_group (231) too, so the
  // child leaves through it with ENOSYS... and then through exit (60).
  Answers a = run_filtered(*prog, SYS_getuid, 435);
  EXPECT_EQ(a.below, EPERM);
  EXPECT_EQ(a.above, ENOSYS);
  a = run_filtered(*prog, SYS_getppid, 1000);
  EXPECT_EQ(a.below, 0) << "listed: allowed";
  EXPECT_EQ(a.above, ENOSYS);
  // An x32 number (bit 30) above the x32 limit, from a native process: the
  // native limit does not apply to it, the x32 one does.
  a = run_filtered(*prog, SYS_getuid, 0x40000000L + 1000);
  EXPECT_EQ(a.above, ENOSYS);
#else
  GTEST_SKIP() << "syscall numbers of x86_64";
#endif
}

TEST(Seccomp, ProgramsOverTheKernelLimitAreRefusedAtCompile) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = std::vector<oci::Syscall>{};
  // One rule per value of arg 1 on one syscall: about one instruction each.
  for (uint64_t v = 0; v < 5000; ++v) {
    oci::Syscall sc;
    sc.names = {"ioctl"};
    sc.action = "SCMP_ACT_ERRNO";
    sc.args =
        std::vector<oci::SeccompArg>{{1, v, std::nullopt, "SCMP_CMP_EQ", oci::Json::object()}};
    p.syscalls->push_back(sc);
  }
  auto r = compile_seccomp(p);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("more than the kernel's limit of 4096"), std::string::npos)
      << r.error().msg;
}

TEST(Seccomp, Hex) {
  std::string raw("\x00\x7f\x80\xff", 4);
  auto back = hex_decode(hex_encode(raw));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, raw);
  EXPECT_FALSE(hex_decode("abc"));
  EXPECT_FALSE(hex_decode("zz"));
}

}  // namespace
}  // namespace hull::engine
