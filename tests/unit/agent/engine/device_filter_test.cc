// linux.resources.devices -> rules -> cgroup v1 reduction -> eBPF program.
// The program is run here by a small interpreter of the instructions the
// generator emits, so the tests check decisions, not instruction bytes. The
// real kernel runs it in the VM tests (tests/integration/agent) and e2e.
#include "agent/engine/device_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <mntent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "agent/engine/cgroup.h"

namespace hull::engine {
namespace {

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR;
constexpr uint32_t kBlock = BPF_DEVCG_DEV_BLOCK;

// Runs `prog` on one request; fails the test on an instruction the generator
// should never emit, a jump out of the program or a missing exit.
int run(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access, uint32_t major,
        uint32_t minor) {
  std::array<uint32_t, 3> ctx{type | access << 16, major, minor};
  std::array<uint64_t, 11> r{};
  r[1] = 0xdead0000;  // the context pointer: only loads at offsets 0, 4, 8 are allowed
  size_t pc = 0;
  for (size_t steps = 0; steps < 4096; ++steps) {
    if (pc >= prog.size()) {
      ADD_FAILURE() << "ran off the end at " << pc;
      return -1;
    }
    const bpf_insn& i = prog[pc++];
    uint64_t& dst = r[i.dst_reg];
    uint32_t src32 = static_cast<uint32_t>(r[i.src_reg]);
    uint32_t imm32 = static_cast<uint32_t>(i.imm);
    auto jump = [&](bool taken) {
      if (taken) pc = static_cast<size_t>(static_cast<long>(pc) + i.off);
    };
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W:
        if (i.src_reg != 1 || r[1] != 0xdead0000 || i.off < 0 || i.off > 8 || i.off % 4) {
          ADD_FAILURE() << "bad context load at " << pc - 1;
          return -1;
        }
        dst = ctx[static_cast<size_t>(i.off / 4)];
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        dst = static_cast<uint32_t>(dst) & imm32;
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        dst = static_cast<uint32_t>(dst) >> imm32;
        break;
      case BPF_ALU | BPF_MOV | BPF_K:
        dst = imm32;
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        dst = src32;
        break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
        jump(static_cast<uint32_t>(dst) != imm32);
        break;
      case BPF_JMP32 | BPF_JEQ | BPF_K:
        jump(static_cast<uint32_t>(dst) == imm32);
        break;
      case BPF_JMP32 | BPF_JNE | BPF_X:
        jump(static_cast<uint32_t>(dst) != src32);
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(r[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code) << " at " << pc - 1;
        return -1;
    }
  }
  ADD_FAILURE() << "no exit";
  return -1;
}

oci::DeviceCgroup rule(bool allow, std::optional<std::string> type, std::optional<int64_t> major,
                       std::optional<int64_t> minor, std::optional<std::string> access) {
  oci::DeviceCgroup d;
  d.allow = allow;
  d.type = std::move(type);
  d.major = major;
  d.minor = minor;
  d.access = std::move(access);
  return d;
}

// The program for the spec's rules plus runc's defaults.
std::vector<bpf_insn> program(std::vector<oci::DeviceCgroup> rules,
                              std::optional<std::vector<oci::Device>> devices = std::nullopt) {
  auto list = device_rules(rules, devices);
  EXPECT_TRUE(list) << list.error().what();
  auto policy = reduce_device_rules(list.value_or(std::vector<DeviceRule>{}));
  EXPECT_TRUE(policy) << policy.error().what();
  return device_program(policy.value_or(DevicePolicy{}));
}

constexpr uint32_t R = kDevAccRead, W = kDevAccWrite, M = kDevAccMknod;

TEST(DeviceFilter, NoRulesAllowsRuncsDefaultsOnly) {
  auto p = program({});
  EXPECT_EQ(run(p, kChar, R | W, 1, 3), 1) << "/dev/null";
  EXPECT_EQ(run(p, kChar, R | W, 1, 5), 1) << "/dev/zero";
  EXPECT_EQ(run(p, kChar, R, 1, 7), 1) << "/dev/full";
  EXPECT_EQ(run(p, kChar, R, 1, 8), 1) << "/dev/random";
  EXPECT_EQ(run(p, kChar, R, 1, 9), 1) << "/dev/urandom";
  EXPECT_EQ(run(p, kChar, R | W, 5, 0), 1) << "/dev/tty";
  EXPECT_EQ(run(p, kChar, R | W, 5, 2), 1) << "/dev/ptmx";
  EXPECT_EQ(run(p, kChar, R | W, 136, 7), 1) << "/dev/pts/7";
  EXPECT_EQ(run(p, kChar, R | W, 10, 200), 1) << "/dev/net/tun";
  EXPECT_EQ(run(p, kChar, M, 42, 42), 1) << "mknod of any char device";
  EXPECT_EQ(run(p, kBlock, M, 8, 0), 1) << "mknod of any block device";
  EXPECT_EQ(run(p, kChar, R, 1, 1), 0) << "/dev/mem";
  EXPECT_EQ(run(p, kChar, R, 1, 11), 0) << "/dev/kmsg";
  EXPECT_EQ(run(p, kBlock, R, 8, 0), 0) << "/dev/sda";
  EXPECT_EQ(run(p, kChar, R, 5, 1), 0) << "/dev/console (the pty is 136:*)";
}

TEST(DeviceFilter, DockerStyleDenyAllThenAllow) {
  auto p = program({rule(false, std::nullopt, std::nullopt, std::nullopt, "rwm"),
                    rule(true, "c", 10, 229, "rwm"), rule(true, "b", 7, -1, "r")});
  EXPECT_EQ(run(p, kChar, R | W, 10, 229), 1) << "/dev/fuse";
  EXPECT_EQ(run(p, kBlock, R, 7, 0), 1) << "loop0 for reading";
  EXPECT_EQ(run(p, kBlock, R, 7, 123), 1) << "any loop device";
  EXPECT_EQ(run(p, kBlock, R | W, 7, 0), 0) << "loop0 for writing: w is not granted";
  EXPECT_EQ(run(p, kChar, R, 7, 0), 0) << "char 7:0 is not block 7:0";
  EXPECT_EQ(run(p, kChar, R | W, 1, 3), 1) << "the defaults still come after";
}

TEST(DeviceFilter, AllowAllThenDeny) {
  auto p = program({rule(true, "a", std::nullopt, std::nullopt, "rwm"),
                    rule(false, "c", 1, 11, "w"), rule(false, "b", 8, 0, "rwm")});
  EXPECT_EQ(run(p, kChar, R, 1, 11), 1) << "kmsg: reading is allowed";
  EXPECT_EQ(run(p, kChar, W, 1, 11), 0) << "kmsg: writing is denied";
  EXPECT_EQ(run(p, kChar, R | W, 1, 11), 0) << "an O_RDWR open asks for w too";
  EXPECT_EQ(run(p, kBlock, R, 8, 0), 0);
  EXPECT_EQ(run(p, kBlock, R, 8, 1), 1);
  EXPECT_EQ(run(p, kChar, R, 4, 1), 1);
}

TEST(DeviceFilter, LaterRulesWin) {
  // Allow, then take r away again: only w is left.
  auto p = program({rule(false, "a", std::nullopt, std::nullopt, "rwm"),
                    rule(true, "c", 42, 1, "rw"), rule(false, "c", 42, 1, "r")});
  EXPECT_EQ(run(p, kChar, W, 42, 1), 1);
  EXPECT_EQ(run(p, kChar, R, 42, 1), 0);
  // An "a" rule forgets everything before it.
  p = program({rule(true, "c", 42, 1, "rw"), rule(false, "a", std::nullopt, std::nullopt, "r")});
  EXPECT_EQ(run(p, kChar, W, 42, 1), 0);
}

TEST(DeviceFilter, ADefaultCanBeDeniedOnlyWhenLinuxDevicesListsIt) {
  std::vector<oci::DeviceCgroup> deny_null{rule(false, "c", 1, 3, "rwm")};
  EXPECT_EQ(run(program(deny_null), kChar, W, 1, 3), 1) << "runc re-allows /dev/null after";
  oci::Device null_dev;
  null_dev.path = "/dev/null";
  null_dev.type = "c";
  null_dev.major = 1;
  null_dev.minor = 3;
  EXPECT_EQ(run(program(deny_null, std::vector<oci::Device>{null_dev}), kChar, W, 1, 3), 0);
}

TEST(DeviceFilter, LargeNumbersCompareAs32Bit) {
  auto p = program({rule(true, "c", 4294967295, 2147483648, "r")});
  EXPECT_EQ(run(p, kChar, R, 4294967295u, 2147483648u), 1);
  EXPECT_EQ(run(p, kChar, R, 4294967295u, 2147483647u), 0);
}

std::string error_of(std::vector<oci::DeviceCgroup> rules) {
  auto list = device_rules(rules, std::nullopt);
  if (!list) return list.error().msg;
  auto policy = reduce_device_rules(*list);
  return policy ? "no error" : policy.error().msg;
}

TEST(DeviceFilter, ErrorsNameTheField) {
  EXPECT_EQ(error_of({rule(true, "c", 1, 3, std::nullopt)}),
            "linux.resources.devices[0].access: must not be empty (a combination of r, w and m)");
  EXPECT_EQ(error_of({rule(true, "c", 1, 3, "rwx")}),
            "linux.resources.devices[0].access: \"rwx\" must be made of the letters r, w and m");
  EXPECT_EQ(error_of({rule(true, "c", 1, 3, "r"), rule(true, "u", 1, 3, "r")}),
            "linux.resources.devices[1].type: must be one of a, b, c, not \"u\"");
  EXPECT_EQ(error_of({rule(true, "c", -2, 3, "r")}),
            "linux.resources.devices[0].major: -2 is out of range (-1 or 0 to 4294967295)");
  EXPECT_EQ(error_of({rule(true, "c", 1, 4294967296, "r")}),
            "linux.resources.devices[0].minor: 4294967296 is out of range (-1 or 0 to "
            "4294967295)");
  EXPECT_EQ(error_of({rule(true, "c", 1, std::nullopt, "rw"), rule(false, "c", 1, 3, "w")}),
            "linux.resources.devices[1]: cannot deny c 1:3 w inside the wildcard rule c 1:* rw "
            "that allows it; list the devices one by one instead");
  // Not a hole: the wildcard does not grant what is taken away.
  EXPECT_EQ(error_of({rule(true, "c", 1, std::nullopt, "r"), rule(false, "c", 1, 3, "w")}),
            "no error");
}

TEST(DeviceFilter, ProgramShape) {
  // 6 context loads, the default's 2 instructions; each exception at most 8.
  DevicePolicy none;
  EXPECT_EQ(device_program(none).size(), 8u);
  auto p = program({});
  EXPECT_LE(p.size(), 8u + 11u * 8u);
  EXPECT_EQ(p.back().code, BPF_JMP | BPF_EXIT);
}

// ---- the real kernel: load, attach, replace, detach ------------------------

std::string cgroup2_mount() {
  FILE* f = ::setmntent("/proc/self/mounts", "r");
  std::string out;
  while (f && out.empty()) {
    mntent* m = ::getmntent(f);
    if (!m) break;
    if (std::string(m->mnt_type) == "cgroup2") out = m->mnt_dir;
  }
  if (f) ::endmntent(f);
  return out;
}

// A child joins `cg` and opens each path for reading (r) or writing (w);
// returns the errno of each open (0: it opened).
std::vector<int> opens_in(Cgroup& cg, const std::vector<std::pair<std::string, int>>& paths) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (!cg.add_pid(::getpid())) ::_exit(100);
    for (const auto& [path, flags] : paths) {
      int fd = ::open(path.c_str(), flags | O_CLOEXEC);
      int e = fd < 0 ? errno : 0;
      if (fd >= 0) ::close(fd);
      (void)!::write(fds[1], &e, sizeof e);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<int> out;
  int e;
  while (::read(fds[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e)) out.push_back(e);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return out;
}

TEST(DeviceFilterKernel, AllowDenyReplaceAndDetach) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string mnt = cgroup2_mount();
  if (mnt.empty()) GTEST_SKIP() << "no cgroup2 mount";
  // Nodes no driver answers: an allowed open fails with ENXIO, a denied one with EPERM.
  std::string dir =
      std::filesystem::temp_directory_path() / ("hull-devfilter-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string c = dir + "/c", b = dir + "/b";
  ASSERT_EQ(::mknod(c.c_str(), S_IFCHR | 0666, makedev(42, 42)), 0) << strerror(errno);
  ASSERT_EQ(::mknod(b.c_str(), S_IFBLK | 0666, makedev(42, 42)), 0) << strerror(errno);
  std::string rel = "/hull-unit-devfilter-" + std::to_string(::getpid());
  auto cg = Cgroup::create(mnt, rel);
  ASSERT_TRUE(cg) << cg.error().what();
  std::vector<std::pair<std::string, int>> probe{
      {c, O_RDONLY}, {c, O_WRONLY}, {b, O_RDONLY}, {b, O_RDWR}, {"/dev/null", O_RDWR}};
  // Before any program: everything reaches the (missing) driver.
  if (opens_in(*cg, probe) != std::vector<int>{ENXIO, ENXIO, ENXIO, ENXIO, 0}) {
    (void)cg->remove(std::chrono::seconds(5));
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "device nodes cannot be opened here (nodev /tmp or a v1 device cgroup)";
  }

  auto rules = device_rules(
      std::vector<oci::DeviceCgroup>{rule(false, "a", std::nullopt, std::nullopt, "rwm"),
                                     rule(true, "c", 42, 42, "r")},
      std::nullopt);
  ASSERT_TRUE(rules);
  ASSERT_TRUE(cg->set_devices(*rules));
  EXPECT_TRUE(cg->has_device_program());
  EXPECT_EQ(opens_in(*cg, probe), (std::vector<int>{ENXIO, EPERM, EPERM, EPERM, 0}));

  // Replaced: allow everything but writes to the block device. O_RDWR asks for w too.
  rules = device_rules(
      std::vector<oci::DeviceCgroup>{rule(true, "a", std::nullopt, std::nullopt, "rwm"),
                                     rule(false, "b", 42, 42, "w")},
      std::nullopt);
  ASSERT_TRUE(rules);
  ASSERT_TRUE(cg->set_devices(*rules));
  EXPECT_EQ(opens_in(*cg, probe), (std::vector<int>{ENXIO, ENXIO, ENXIO, EPERM, 0}));

  EXPECT_TRUE(cg->remove(std::chrono::seconds(5)));
  EXPECT_FALSE(cg->has_device_program());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hull::engine
